"""Script calls on one pipelined Redis connection per event loop: the gateway's input path.

Every input a player sends is one EVALSHA. A call packs with hiredis, is written with the
other calls of the same loop turn, and waits on a future; one protocol object reads replies in
order and resolves them. Calls never wait for each other: Redis pipelines them. redis.asyncio's
per-call pool checkout and Python packing cost far more (docs/benchmarks.md).

Two cases take redis.asyncio's path instead (the caller's `fallback`): a script Redis does
not know yet (NOSCRIPT: the fallback loads it), and TLS or Unix-socket URLs.
"""

import asyncio
import collections
import contextlib

import hiredis
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self._outgoing: list[bytes] = []

    def send(self, command: bytes) -> None:
        """Queue a packed command; all those of one loop iteration go out in one write (one
        reactor turn reads many players' inputs: one system call for all of them)."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(command)

    def _flush(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None:  # else connection_lost failed every waiting call
            self.transport.write(data)

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiting = self.waiting
        while (reply := self.reader.gets()) is not False:
            future = waiting.popleft()
            if not future.done():
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        error = RedisConnectionError(f"Redis connection lost: {exc}")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class Pipe:
    """EVALSHA over one connection; `call` falls back to redis.asyncio when it must."""

    def __init__(self, url: str) -> None:
        self.options = parse_url(url)
        self.usable = not url.startswith(("rediss://", "unix://")) and "path" not in self.options
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future | None = None

    async def call(self, script, *, keys: list, args: list, fallback):
        """Run `script` (a redis.asyncio Script); `fallback()` is its own awaitable call."""
        if not self.usable:
            return await fallback()
        try:
            protocol = await self._connected()
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc}") from exc
        future = asyncio.get_running_loop().create_future()
        protocol.waiting.append(future)
        protocol.send(hiredis.pack_command((b"EVALSHA", script.sha, len(keys), *keys, *args)))
        # A lost connection raises redis' ConnectionError, as redis.asyncio would; the call
        # is not retried (Redis may have run it). The next call reconnects.
        reply = await future
        if isinstance(reply, hiredis.ReplyError):
            if str(reply).startswith("NOSCRIPT"):
                return await fallback()  # loads the script; later calls find it
            raise ResponseError(str(reply))
        return reply

    async def _connected(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(
                _Protocol, self.options.get("host", "127.0.0.1"), self.options.get("port", 6379)
            ),
            timeout=2,
        )
        setup = []
        if self.options.get("password"):
            user = self.options.get("username")
            setup.append((b"AUTH", *([user] if user else []), self.options["password"]))
        if self.options.get("db"):
            setup.append((b"SELECT", int(self.options["db"])))
        for command in setup:
            future = loop.create_future()
            protocol.waiting.append(future)
            protocol.transport.write(hiredis.pack_command(command))
            reply = await asyncio.wait_for(future, timeout=2)
            if isinstance(reply, hiredis.ReplyError):
                protocol.transport.close()
                raise OSError(f"{command[0].decode()} refused: {reply}")
        self._protocol = protocol
        return protocol

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            with contextlib.suppress(Exception):
                self._protocol.transport.close()
