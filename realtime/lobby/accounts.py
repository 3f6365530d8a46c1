"""Accounts over the lobby API: sign up, log in, log out, change password (docs/protocol.md).

Django's auth does the passwords and the session (``login`` cycles the session key, so a key
seen before the log-in is worth nothing after it); ``matches.accounts`` attaches the account
to the session's player. Log-ins are limited against guessing: failures are counted per
username and per client address in Redis (``store.LOGIN_GATE``), and past the limit every
attempt, right or wrong, is refused with 429 until the window ends. Sign-ups are counted per
client address (the same scripts): past ``SIGNUP_MAX_PER_ADDRESS`` a window, 429 too.
"""

import math
from functools import cache

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, JsonResponse

from matches import accounts
from matches.identity import player_for_session, session_bind
from realtime import store
from realtime.lobby.api import ApiError, _body, _field, _only, _player_json, api

_STATUS = {"username_taken": 409, "already_signed_up": 409, "wrong_password": 403}


@cache
def _scripts():
    r = store.client()
    return r.register_script(store.LOGIN_GATE), r.register_script(store.LOGIN_FAILED)


def _address(request: HttpRequest) -> str:
    # Behind nginx, Daphne's --proxy-headers puts the client's address here (operations.md).
    return request.META.get("REMOTE_ADDR") or "unknown"


def _limit(keys: list[str], limits: list[int], code: str, what: str) -> None:
    """429 ``code`` while a counter of ``keys`` is at its limit, with the seconds to wait."""
    gate, _ = _scripts()
    wait_ms = gate(keys=keys, args=limits)
    if wait_ms:
        seconds = max(1, math.ceil(wait_ms / 1000))
        raise ApiError(429, code, f"{what}: try again in {seconds} s",
                       headers={"Retry-After": str(seconds)})  # fmt: skip


def _gate(username: str, request: HttpRequest) -> tuple[str, str]:
    keys = store.login_failure_keys(username, _address(request))
    _limit(list(keys), [settings.LOGIN_MAX_FAILURES_PER_USERNAME,
                        settings.LOGIN_MAX_FAILURES_PER_ADDRESS],
           "too_many_attempts", "too many failed log-ins")  # fmt: skip
    return keys


def _failed(keys: tuple[str, str]) -> None:
    _, failed = _scripts()
    failed(keys=list(keys), args=[int(settings.LOGIN_FAILURE_WINDOW_S * 1000)])


def _credentials(request: HttpRequest) -> tuple[str, str]:
    data = _body(request)
    _only(data, {"username", "password"})
    return _field(data, "username", str, None), _field(data, "password", str, None)


def _account_call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except accounts.AccountError as exc:
        raise ApiError(_STATUS.get(exc.code, 400), exc.code, exc.reason) from None


def _signed_in(request: HttpRequest, player) -> JsonResponse:
    session_bind(session=request.session, player=player)
    return JsonResponse({"player": _player_json(player)})


@api("POST")
def signup(request: HttpRequest) -> JsonResponse:
    username, password = _credentials(request)
    key = store.signup_key(_address(request))
    _limit([key], [settings.SIGNUP_MAX_PER_ADDRESS], "too_many_signups",
           "too many accounts from this address")  # fmt: skip
    guest = player_for_session(request.session)
    user, player = _account_call(accounts.signup, player=guest, username=username,
                                 password=password)  # fmt: skip
    _scripts()[1](keys=[key], args=[int(settings.SIGNUP_WINDOW_S * 1000)])  # one more made
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return _signed_in(request, player)


@api("POST")
def login(request: HttpRequest) -> JsonResponse:
    username, password = _credentials(request)
    keys = _gate(username, request)
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        _failed(keys)
        raise ApiError(401, "bad_credentials", "wrong username or password")
    store.client().delete(keys[0])  # the owner got in: their name's count starts again
    auth.login(request, user)
    return _signed_in(request, accounts.player_of(user))


@api("POST")
def logout(request: HttpRequest) -> JsonResponse:
    _only(_body(request), set())
    auth.logout(request)  # the session is flushed: this browser is a visitor again
    return JsonResponse({"player": None})


@api("POST")
def password(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    _only(data, {"old_password", "new_password"})
    player = player_for_session(request.session)
    # request.user read before the change: read after it, Django would see a stale hash.
    user = request.user
    if player is None or not user.is_authenticated or player.user_id != user.pk:
        raise ApiError(403, "not_signed_in", "log in first")
    # A malformed body is a 400, not a wrong password: it does not count as a failed log-in.
    old_password = _field(data, "old_password", str, None)
    new_password = _field(data, "new_password", str, None)
    # Guessing the current password from a borrowed session meets the log-in's limit.
    keys = _gate(user.get_username(), request)
    try:
        accounts.change_password(user=user, old_password=old_password,
                                 new_password=new_password)  # fmt: skip
    except accounts.AccountError as exc:
        if exc.code == "wrong_password":
            _failed(keys)
        raise ApiError(_STATUS.get(exc.code, 400), exc.code, exc.reason) from None
    # This session stays logged in; every other session of the account is logged out.
    auth.update_session_auth_hash(request, user)
    return JsonResponse({"player": _player_json(player)})
