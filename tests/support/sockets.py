"""Sessions and websocket clients for gateway tests (in-process, through the ASGI app)."""

import json
from unittest import mock

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from config.asgi import application
from matches.identity import player_ensure
from matches.models import Match, Player
from realtime.engine import supervisor

ORIGIN = "http://testserver"


def session_for(name: str) -> tuple[Player, str]:
    """A guest player bound to a new session, and the Cookie header value that carries it."""
    session = SessionStore()
    player = player_ensure(session=session, display_name=name)
    session.save()
    return player, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def begin(match: Match) -> Match:
    """countdown → running with the state in Redis, as the supervisor does, minus the worker."""
    with mock.patch("realtime.engine.dispatch.run_match"):
        supervisor.begin(match.pk)
    return Match.objects.get(pk=match.pk)


def socket(
    public_id: str, *, cookie: str | None = None, origin: str | None = ORIGIN
) -> WebsocketCommunicator:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, f"/ws/matches/{public_id}/", headers=headers)


async def receive(comm: WebsocketCommunicator, *, timeout: float = 3, pings: bool = False):
    """The next message as a dict (server pings skipped unless asked), or the close event."""
    while True:
        out = await comm.receive_output(timeout)
        if out["type"] == "websocket.close":
            return out
        message = json.loads(out["text"])
        if pings or message.get("type") != "ping":
            return message


async def receive_until_close(comm: WebsocketCommunicator, *, timeout: float = 3) -> list:
    seen = []
    while True:
        message = await receive(comm, timeout=timeout, pings=True)
        seen.append(message)
        if message.get("type") == "websocket.close":
            return seen
