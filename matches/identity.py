"""Who a browser is: the guest Player bound to its Django session.

The session is the only source of identity, over HTTP and websockets alike; nothing a client
sends in a message can name a player. Sessions are saved by Django's middleware after an HTTP
request, never by a websocket consumer, so only the lobby API calls ``player_ensure``.
"""

from django.contrib.sessions.backends.base import SessionBase

from matches import services
from matches.models import Player

SESSION_KEY = "player_id"


def player_for_session(session: SessionBase) -> Player | None:
    """The session's player, or None for a visitor who has not picked a nickname yet."""
    player_id = session.get(SESSION_KEY)
    if not isinstance(player_id, int):
        return None
    return Player.objects.filter(pk=player_id).first()


def player_ensure(*, session: SessionBase, display_name: str) -> Player:
    """Rename the session's player, or create one (a guest) and bind it to the session."""
    player = player_for_session(session)
    if player is not None:
        return services.player_rename(player=player, display_name=display_name)
    player = services.player_create(display_name=display_name)
    # A new identity gets a new session key, so a key seen before (fixation) is worth nothing.
    session.cycle_key()
    session[SESSION_KEY] = player.pk
    return player
