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


def session_player_id(session: SessionBase) -> int | None:
    """The id of the player the session was bound to, if any (not yet checked: ``player_held``)."""
    player_id = session.get(SESSION_KEY)
    return player_id if isinstance(player_id, int) else None


def player_for_session(session: SessionBase) -> Player | None:
    """The session's player, or None for a visitor who has not picked a nickname yet."""
    player_id = session_player_id(session)
    if player_id is None:
        return None
    return player_held(session, Player.objects.select_related("user").filter(pk=player_id).first())


def player_held(session: SessionBase, player: Player | None) -> Player | None:
    """``player`` (loaded with its ``user``, the session's bound player) if the session still
    holds it: a player with an account only while the session is logged in to it."""
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
