"""State frames written straight to Daphne's sockets, framed once per tick for all of them.

A state sent the ASGI way costs, per socket and tick: Channels' send wrappers, Daphne's
`Server.handle_reply` coroutine and `WebSocketProtocol.handle_reply`, a UTF-8 encode, and
autobahn's `sendMessage` building the same frame again (py-spy, docs/benchmarks.md). Every
socket of a match gets the same bytes (server frames are not masked, and Daphne accepts no
compression), so the hub builds the frame once and each socket's transport takes it.

Only states go this way: welcome, errors, pings and closes keep the ASGI path, so Daphne and
autobahn still see every state change of the connection. A frame is written only while
autobahn says the connection is open and has nothing queued ahead of it; otherwise the
caller falls back to the ASGI send, which orders and refuses as Daphne does.
"""

import functools
import logging
import struct

from django.conf import settings

try:
    from autobahn.websocket.protocol import WebSocketProtocol
except ImportError:  # pragma: no cover - another ASGI server: always the ASGI path
    WebSocketProtocol = None

log = logging.getLogger(__name__)
_told = False

_OPEN = WebSocketProtocol.STATE_OPEN if WebSocketProtocol is not None else None
_TEXT_FIN = 0x81


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented RFC 6455 text frame (what a server sends)."""
    size = len(payload)
    if size < 126:
        head = bytes((_TEXT_FIN, size))
    elif size < 65536:
        head = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        head = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return head + payload


def socket_of(send) -> object | None:
    """The autobahn protocol behind an ASGI `send` callable when Daphne serves it, else None.

    Daphne hands each application `functools.partial(server.handle_reply, protocol)`;
    Channels' session middleware wraps it in `InstanceSessionWrapper.send`, which acts on
    `http.response.start` only and keeps the wrapped callable as `real_send`.
    """
    found = _find(send)
    global _told
    if not _told:  # once per process: a silent fallback would be a silent 2x in CPU
        _told = True
        if found is not None:
            log.info("states are framed once and written straight to Daphne's sockets")
        else:
            log.warning(
                "states take the ASGI send path (REALTIME_DIRECT_WRITE=%s, send=%r)",
                settings.REALTIME_DIRECT_WRITE, send,
            )  # fmt: skip
    return found


def _find(send) -> object | None:
    if not settings.REALTIME_DIRECT_WRITE or WebSocketProtocol is None:
        return None
    for _ in range(8):  # a few middleware layers at most
        if isinstance(send, functools.partial):
            if (
                getattr(send.func, "__name__", "") == "handle_reply"
                and len(send.args) == 1
                and isinstance(send.args[0], WebSocketProtocol)
            ):
                return send.args[0]
            return None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def write(protocol, frame: bytes) -> bool:
    """Write a pre-built frame if the connection is open and idle in autobahn's eyes.

    False means: use the ASGI send instead (it raises or drops as Daphne would).
    """
    if (
        protocol.state != _OPEN
        or protocol.send_queue
        or protocol.send_state != WebSocketProtocol.SEND_STATE_GROUND
        or protocol._perMessageCompress is not None
        or protocol.transport is None
    ):
        return False
    protocol.transport.write(frame)
    return True
