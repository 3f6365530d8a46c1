"""Every reach into Daphne's, autobahn's, Twisted's and Channels' internals, in one place.

Four shortcuts on the per-socket hot path (figures in docs/benchmarks.md), and two fixes:

- **direct frame writes**: each tick's state is framed once (``text_frame``) and written
  straight to every socket's transport (``socket_of``, ``write``), instead of the ASGI send
  path, which rebuilt the same frame per socket. Relies on Daphne handing applications
  ``partial(server.handle_reply, protocol)``, Channels' ``InstanceSessionWrapper.real_send``,
  and autobahn's ``state``, ``send_queue``, ``send_state`` and ``_perMessageCompress``.
- **eager socket writes** (``install``): Twisted's ``tcp.Connection.write`` tries ``send`` at
  once when nothing is buffered, as asyncio's transports do, instead of waiting for the
  reactor's next turn. Relies on ``Connection``'s ``dataBuffer``, ``offset``,
  ``_tempDataLen`` and ``_writeDisconnected``.
- **a lean dispatch** (``dispatch``): Channels' ``AsyncConsumer.dispatch`` minus its
  ``close_old_connections`` thread hop before every message; the consumer's database calls
  go through ``database_sync_to_async``, which closes stale connections itself.
- **no pretty-printed debug line per handshake** (``install``): autobahn's
  ``WebSocketProtocol._connectionMade`` formats its ~30 settings with ``pformat`` for a
  ``log.debug`` call on every new connection, whether or not debug lines are logged: a
  visible share of a restarted Daphne's time (docs/operations.md, "Reconnect stampede"). The
  module's ``pformat`` formats only while txaio logs at debug or trace. Relies on
  ``autobahn.websocket.protocol.pformat`` and ``txaio.get_global_log_level``.
- **a listen backlog for a stampede** (``install``): Daphne listens with Twisted's default
  backlog, 50 connections; a restarted Daphne's players overflowed it while its loop was
  busy with their handshakes, and their connects timed out. Its endpoints get
  ``GATEWAY_LISTEN_BACKLOG`` unless they set a backlog. Relies on ``daphne.server.Server``'s
  ``run`` and ``endpoints`` (Twisted endpoint strings).
- **no cap on what the server sends** (``install``): autobahn holds outgoing messages to
  ``maxMessagePayloadSize`` too, Daphne's ``--websocket-max-message-size``, which is meant for
  what clients send (DAPHNE_MAX_MESSAGE_BYTES); a v1 state past it (a 64-ship Thrust Arena's
  is ~9.5 KB) raised ``PayloadExceededError`` in the ASGI send and closed the socket 1011.
  Daphne's ``serverSend`` lifts the cap for the one synchronous ``sendMessage`` call. Relies
  on ``daphne.ws_protocol.WebSocketProtocol.serverSend`` and autobahn's
  ``maxMessagePayloadSize``.

All six are on only while ``REALTIME_DIRECT_WRITE`` is set (the default) and the installed
versions are exactly ``WRITTEN_FOR``. Otherwise the process logs a warning once and takes the
public paths: slower, never a silent change of behaviour.
"""

import functools
import logging
import struct
from importlib import metadata

from channels.consumer import AsyncConsumer, get_handler_name
from django.conf import settings

log = logging.getLogger(__name__)

WRITTEN_FOR = {"daphne": "4.2.3", "autobahn": "26.10.2", "twisted": "26.10.0",
               "channels": "4.3.2"}  # fmt: skip

_TEXT_FIN = 0x81
_BINARY_FIN = 0x82


def installed_versions() -> dict[str, str | None]:
    out = {}
    for name in WRITTEN_FOR:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def why_not(versions: dict[str, str | None] | None = None) -> str | None:
    """Why the shortcuts are off (a sentence), or None when they are on."""
    if not settings.REALTIME_DIRECT_WRITE:
        return "REALTIME_DIRECT_WRITE is off"
    versions = installed_versions() if versions is None else versions
    other = {n: v for n, v in versions.items() if v != WRITTEN_FOR[n]}
    if other:
        found = ", ".join(f"{n} {v or 'missing'} (written for {WRITTEN_FOR[n]})"
                          for n, v in sorted(other.items()))  # fmt: skip
        return f"installed versions differ: {found}"
    return None


@functools.cache
def enabled() -> bool:
    """Whether this process takes the shortcuts; says once which path it takes."""
    reason = why_not()
    if reason is None:
        log.info("states are framed once and written straight to Daphne's sockets")
        return True
    log.warning("states take the ASGI send path: %s", reason)
    return False


# --- direct frame writes -----------------------------------------------------------------


def text_frame(payload: bytes, opcode: int = _TEXT_FIN) -> bytes:
    """An unmasked, unfragmented RFC 6455 text frame (what a server sends)."""
    size = len(payload)
    if size < 126:
        head = bytes((opcode, size))
    elif size < 65536:
        head = struct.pack("!BBH", opcode, 126, size)
    else:
        head = struct.pack("!BBQ", opcode, 127, size)
    return head + payload


def binary_frame(payload: bytes) -> bytes:
    """The same as a binary frame (compact states)."""
    return text_frame(payload, _BINARY_FIN)


def socket_of(send) -> object | None:
    """The autobahn protocol behind an ASGI ``send`` callable when Daphne serves it and the
    shortcuts are on, else None (the caller uses ``send``)."""
    if not enabled():
        return None
    from autobahn.websocket.protocol import WebSocketProtocol

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


def gone(protocol) -> bool:
    """The connection behind a socket not yet accepted is closed (its client, or nginx for
    it, gave up waiting for the handshake's answer); False when unknown (no ``protocol``).
    Reading Twisted's flags from the database thread is safe: they are plain attributes."""
    if protocol is None:
        return False
    transport = protocol.transport
    return transport is None or not transport.connected or bool(transport.disconnecting)


def write(protocol, frame: bytes) -> bool:
    """Write a pre-built frame if the connection is open and idle in autobahn's eyes.

    False means: use the ASGI send instead (it queues, raises or drops as Daphne would).
    """
    if (
        protocol.state != protocol.STATE_OPEN
        or protocol.send_queue
        or protocol.send_state != protocol.SEND_STATE_GROUND
        or protocol._perMessageCompress is not None
        or protocol.transport is None
    ):
        return False
    protocol.transport.write(frame)
    return True


def backlog(protocol) -> int:
    """Bytes written to a socket's transport and not yet sent (Twisted's write buffer); 0 when
    the shortcuts are off (the attributes are Twisted's ``FileDescriptor``'s)."""
    transport = protocol.transport
    if transport is None or not enabled():
        return 0
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


# --- eager socket writes -----------------------------------------------------------------


def _eager_write(self, data: bytes) -> None:
    if (
        self.TLS
        or not data
        or not self.connected
        or self._writeDisconnected
        or self._tempDataLen
        or len(self.dataBuffer) != self.offset
    ):
        _buffered_write(self, data)
        return
    try:
        sent = self.socket.send(data)
    except OSError:
        sent = 0  # EAGAIN, or a broken socket: doWrite meets it and reports it as usual
    if sent < len(data):
        _buffered_write(self, data[sent:])


_buffered_write = None


# --- no cap on what the server sends -----------------------------------------------------


def _uncapped_send(self, content, binary=False) -> None:
    # sendMessage is synchronous on the reactor: no incoming frame is read meanwhile.
    cap = self.maxMessagePayloadSize
    self.maxMessagePayloadSize = 0
    try:
        _capped_send(self, content, binary)
    finally:
        self.maxMessagePayloadSize = cap


_capped_send = None


# --- no pretty-printed debug line per handshake --------------------------------------------


def _pformat_if_logged(obj, *args, **kwargs) -> str:
    import txaio

    if txaio.get_global_log_level() in ("debug", "trace"):
        return _pformat(obj, *args, **kwargs)
    return "(not formatted: autobahn logs no debug lines)"


_pformat = None


# --- a listen backlog for a stampede ---------------------------------------------------------

_BACKLOG_ENDPOINTS = ("tcp:", "tcp6:", "ssl:", "unix:")


def with_backlog(endpoint: str, backlog: int) -> str:
    """A Twisted server endpoint string with ``backlog`` unless it names its own."""
    if not endpoint.startswith(_BACKLOG_ENDPOINTS) or ":backlog=" in endpoint:
        return endpoint
    return f"{endpoint}:backlog={backlog}"


def _run_with_backlog(self) -> None:
    self.endpoints = [with_backlog(e, settings.GATEWAY_LISTEN_BACKLOG) for e in self.endpoints]
    _server_run(self)


_server_run = None


def install() -> bool:
    """Make Twisted's TCP connections write eagerly, Daphne's sends go out whatever their
    size and autobahn's handshakes skip a debug line nobody logs (once per process, from
    config/asgi.py); False when the shortcuts are off."""
    global _buffered_write, _capped_send, _pformat, _server_run
    if not enabled():
        return False
    from autobahn.websocket import protocol as autobahn_protocol
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import tcp

    if _buffered_write is None:
        _buffered_write = tcp.Connection.write
        tcp.Connection.write = _eager_write
    if _capped_send is None:
        _capped_send = WebSocketProtocol.serverSend
        WebSocketProtocol.serverSend = _uncapped_send
    if _pformat is None:
        _pformat = autobahn_protocol.pformat
        autobahn_protocol.pformat = _pformat_if_logged
    if _server_run is None:
        _server_run = Server.run
        Server.run = _run_with_backlog
    return True


def uninstall() -> None:
    """Back to Twisted's own write, Daphne's own send and run, autobahn's pformat (tests)."""
    global _buffered_write, _capped_send, _pformat, _server_run
    if _buffered_write is not None:
        from twisted.internet import tcp

        tcp.Connection.write = _buffered_write
        _buffered_write = None
    if _capped_send is not None:
        from daphne.ws_protocol import WebSocketProtocol

        WebSocketProtocol.serverSend = _capped_send
        _capped_send = None
    if _pformat is not None:
        from autobahn.websocket import protocol as autobahn_protocol

        autobahn_protocol.pformat = _pformat
        _pformat = None
    if _server_run is not None:
        from daphne.server import Server

        Server.run = _server_run
        _server_run = None


# --- a lean dispatch ---------------------------------------------------------------------


async def _lean_dispatch(consumer, message: dict) -> None:
    handler = getattr(consumer, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"no handler for message type {message['type']}")
    await handler(message)


async def dispatch(consumer, message: dict) -> None:
    """The consumer's ``dispatch``: the lean one when the shortcuts are on, Channels' own
    otherwise."""
    if enabled():
        await _lean_dispatch(consumer, message)
    else:
        await AsyncConsumer.dispatch(consumer, message)
