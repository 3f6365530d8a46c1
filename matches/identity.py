"""Who a browser is: the Player bound to its Django session.

The session is the only source of identity, over HTTP and websockets alike; nothing a client
sends in a message can name a player. Sessions are saved by Django's middleware after an HTTP
request, never by a websocket consumer, so only the lobby API calls ``player_ensure`` and
``session_bind``. A player with an account is the session's only while the session is logged
in to that account (Django's session auth hash): a password change or a log-out elsewhere
ends the other sessions' hold on it.
"""

from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from matches import services
from matches.models import Player

SESSION_KEY = "player_id"


def _logged_in_as(session: SessionBase, user) -> bool:
    return (
        user.is_active
        and session.get(AUTH_SESSION_KEY) == str(user.pk)
        and constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash())
    )


def player_for_session(session: SessionBase) -> Player | None:
    """The session's player, or None for a visitor who has not picked a nickname yet."""
    player_id = session.get(SESSION_KEY)
    if not isinstance(player_id, int):
        return None
    return _held(session, Player.objects.select_related("user").filter(pk=player_id).first())


def player_among(session: SessionBase, players: list[Player]) -> Player | None:
    """``player_for_session`` if the session's player is one of ``players`` (loaded with their
    ``user``), else None, without a query of its own beyond the session's: a match socket
    already has its match's players."""
    player_id = session.get(SESSION_KEY)
    if not isinstance(player_id, int):
        return None
    return _held(session, next((p for p in players if p.pk == player_id), None))


def _held(session: SessionBase, player: Player | None) -> Player | None:
    if player is not None and player.user is not None and not _logged_in_as(session, player.user):
        return None
    return player


def session_bind(*, session: SessionBase, player: Player) -> None:
    """The session plays as ``player`` from now on (after a sign-up or a log-in)."""
    session[SESSION_KEY] = player.pk


def player_ensure(*, session: SessionBase, display_name: str) -> Player:
    """Rename the session's player, or create one (a guest) and bind it to the session."""
    player = player_for_session(session)
    if player is not None:
        return services.player_rename(player=player, display_name=display_name)
    player = services.player_create(display_name=display_name)
    # A new identity gets a new session key, so a key seen before (fixation) is worth nothing.
    session.cycle_key()
    session_bind(session=session, player=player)
    return player
