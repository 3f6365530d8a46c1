"""Accounts: a username and a password that keep a player across browsers and devices.

A guest who signs up keeps its Player (history, ratings): the account is attached to the
player the browser's session holds, so only that browser can claim it. Passwords go through
Django's auth and its ``AUTH_PASSWORD_VALIDATORS``.
"""

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from matches import services
from matches.errors import MatchError
from matches.models import Player

USERNAME_MAX = 30  # shown next to the nickname; Django's own limit (150) is no name to read


class AccountError(MatchError):
    code = "account_error"


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def clean_username(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise AccountError("a username must be a non-empty string", code="bad_username")
    User = get_user_model()
    username = User.normalize_username(raw.strip())
    if len(username) > USERNAME_MAX:
        raise AccountError(f"a username has at most {USERNAME_MAX} characters", code="bad_username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise AccountError(_messages(exc), code="bad_username") from None
    return username


def check_password_strength(password: object, *, user) -> str:
    if not isinstance(password, str) or not password:
        raise AccountError("a password must be a non-empty string", code="bad_password")
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        raise AccountError(_messages(exc), code="bad_password") from None
    return password


@transaction.atomic
def signup(*, player: Player | None, username: str, password: str):
    """A new account for ``player`` (the session's guest), or for a new player named after
    it; returns ``(user, player)``."""
    User = get_user_model()
    username = clean_username(username)
    if player is not None and player.user_id is not None:
        raise AccountError("this player already has an account: log in", code="already_signed_up")
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"the username {username!r} is taken", code="username_taken")
    check_password_strength(password, user=User(username=username))
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError:
        raise AccountError(f"the username {username!r} is taken", code="username_taken") from None
    if player is None:
        player = services.player_create(display_name=username[: services.DISPLAY_NAME_MAX])
    player.user = user
    player.save(update_fields=["user", "last_seen_at"])
    return user, player


def player_of(user) -> Player:
    """The account's player; an account made in the admin gets one at its first log-in."""
    player = Player.objects.filter(user=user).first()
    if player is None:
        name = user.get_username()[: services.DISPLAY_NAME_MAX]
        player = services.player_create(display_name=name, user=user)
    return player


def change_password(*, user, old_password: object, new_password: object) -> None:
    if not isinstance(old_password, str) or not user.check_password(old_password):
        raise AccountError("the current password is wrong", code="wrong_password")
    check_password_strength(new_password, user=user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
