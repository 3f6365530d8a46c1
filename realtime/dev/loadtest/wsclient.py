"""A small RFC 6455 client for the load tool: one asyncio protocol, messages as callbacks.

The load tool shares the machine with the server it measures, so its cost per received state
is capacity taken from the server. A general client (`websockets`) spends ~70 µs per message
on its reader task, frame generator, message queue and the caller's `recv()`/timeout; here a
frame is cut out of the read buffer and handed to a callback, ~5 µs (docs/benchmarks.md).
It does what a browser does on the wire: the opening handshake with Cookie and Origin
(its Sec-WebSocket-Accept checked), masked client frames, replies to pings and to the
server's close, reassembly of fragmented messages. No extensions are offered.
"""

import asyncio
import base64
import hashlib
import logging
import os
import ssl
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 16 * 1024 * 1024

log = logging.getLogger(__name__)

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeError(Exception):
    """The server did not switch protocols (its status line is the message; ``status`` the
    HTTP status, 0 when the answer was not one): 429 or 503 is nginx's limit refusing it."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class ProtocolViolation(Exception):
    pass


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key, as one big-integer operation (no per-byte Python loop)."""
    size = len(payload)
    if not size:
        return b""
    repeated = (key * (size // 4 + 1))[:size]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(size, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    key = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + key + mask(payload, key)


class Connection(asyncio.Protocol):
    """One websocket. `on_message(payload: bytes, binary: bool)` runs for every message."""

    def __init__(self, on_message: Callable[[bytes, bool], None]) -> None:
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshaking = True
        self.handshake: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None  # the server's, None if it sent no close frame
        # Without a close frame, what ended it: "eof" (the server shut TCP), "reset", or this
        # end's "protocol_violation" or "client_error" (a bug of the load tool: logged).
        self.ended_by: str | None = None
        self.lost_by: Exception | None = None  # the error a lost connection came with
        self.close_sent = False
        self.fragments: list[bytes] = []
        self.fragment_binary = False
        self.key = ""

    # --- asyncio.Protocol ----------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            if self.handshaking and not self._read_handshake():
                return
            self._read_frames()
        except HandshakeError as exc:
            self._fail(exc)
        except ProtocolViolation as exc:
            log.warning("protocol violation by the server: %s", exc)
            self._fail(exc, "protocol_violation")
        except Exception as exc:
            log.exception("the message callback raised")
            self._fail(exc, "client_error")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None and self.ended_by is None:
            self.ended_by = "eof" if exc is None else "reset"
            self.lost_by = exc
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    # --- sending -------------------------------------------------------------------------------
    def send_text(self, payload: bytes) -> None:
        if not self.close_sent and self.transport is not None:
            self.transport.write(client_frame(OP_TEXT, payload))

    def close(self, code: int = 1000) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if not self.close_sent:
            self.close_sent = True
            self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", code)))

    def addresses(self) -> str:
        """`local -> server`, to find a lost socket in the server's logs."""
        if self.transport is None:
            return "(not connected)"
        info = self.transport.get_extra_info
        return f"{info('sockname')} -> {info('peername')}"

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # --- reading -------------------------------------------------------------------------------
    def _read_handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 65536:
                raise HandshakeError("response headers too long")
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        status = head[0].split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            code = int(status[1]) if len(status) >= 2 and status[1].isdigit() else 0
            raise HandshakeError(head[0], code)
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self.key.encode() + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeError("wrong Sec-WebSocket-Accept")
        if headers.get("upgrade", "").lower() != "websocket":
            raise HandshakeError("no Upgrade: websocket")
        self.handshaking = False
        self.handshake.set_result(None)
        return True

    def _read_frames(self) -> None:
        buf = self.buffer
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if b1 & 0x80:
                raise ProtocolViolation("a server frame was masked")
            if b0 & 0x70:
                raise ProtocolViolation("reserved bits set (no extension was negotiated)")
            size = b1 & 0x7F
            head = 2
            if size == 126:
                if end - pos < 4:
                    break
                size = (buf[pos + 2] << 8) | buf[pos + 3]
                head = 4
            elif size == 127:
                if end - pos < 10:
                    break
                size = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if size > MAX_MESSAGE:
                raise ProtocolViolation("frame too large")
            if end - pos < head + size:
                break
            payload = bytes(buf[pos + head : pos + head + size])
            pos += head + size
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
            if self.closed.done() or self.transport is None or self.transport.is_closing():
                break
        del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY):
            if self.fragments:
                raise ProtocolViolation("a new message inside a fragmented one")
            if fin:
                self.on_message(payload, opcode == OP_BINARY)
            else:
                self.fragments, self.fragment_binary = [payload], opcode == OP_BINARY
        elif opcode == OP_CONT:
            if not self.fragments:
                raise ProtocolViolation("a continuation without a message")
            self.fragments.append(payload)
            if sum(len(f) for f in self.fragments) > MAX_MESSAGE:
                raise ProtocolViolation("message too large")
            if fin:
                message, self.fragments = b"".join(self.fragments), []
                self.on_message(message, self.fragment_binary)
        elif opcode == OP_PING:
            self.transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if not self.close_sent:  # echo it, as the RFC asks; the server then closes TCP
                self.close_sent = True
                self.transport.write(client_frame(OP_CLOSE, payload[:2]))
        elif opcode != OP_PONG:
            raise ProtocolViolation(f"unknown opcode {opcode}")

    def _fail(self, exc: Exception, why: str | None = None) -> None:
        self.ended_by = self.ended_by or why
        if not self.handshake.done():
            self.handshake.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()


async def connect(
    url: str, *, origin: str, headers: dict[str, str], on_message: Callable[[bytes, bool], None],
    timeout: float = 10.0, local_host: str | None = None,
) -> Connection:  # fmt: skip
    """Open a websocket to ws:// or wss:// `url` and return it once the server switched;
    from the address ``local_host`` if given (players behind different addresses, as a
    per-address limit in front sees them: every 127.0.0.0/8 address is the loopback's)."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if secure else 80)
    loop = asyncio.get_running_loop()
    _, conn = await asyncio.wait_for(
        loop.create_connection(
            lambda: Connection(on_message), host, port,
            ssl=ssl.create_default_context() if secure else None,
            local_addr=(local_host, 0) if local_host else None,
        ),
        timeout,
    )  # fmt: skip
    conn.key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {conn.key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    conn.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    try:
        await asyncio.wait_for(asyncio.shield(conn.handshake), timeout)
    except BaseException:
        conn.abort()
        raise
    return conn
