"""Script calls on one pipelined Redis connection per event loop: the gateway's input path
(and its sockets' other small calls: slots, snapshots, round trips).

Every input a player sends is one EVALSHA. A call packs with hiredis, is written with the
other calls of the same loop turn, and waits on a future; one protocol object reads replies in
order and resolves them. Calls never wait for each other: Redis pipelines them. redis.asyncio's
per-call pool checkout and Python packing cost far more (docs/benchmarks.md).

A script Redis does not know yet (NOSCRIPT) takes redis.asyncio's path instead (the caller's
`fallback` loads it). The connection is opened as ``realtime.redisconn`` says (TLS, Unix
socket, ACL user, Sentinel, RESP2) and watched by its ``Liveness``: a silent (half-open) one
fails its waiting calls within REDIS_DEAD_AFTER_S and the next call opens a new one.
"""

import asyncio
import collections
import contextlib
import logging

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from realtime import redisconn

log = logging.getLogger(__name__)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self._outgoing: list[bytes] = []
        self.liveness = redisconn.Liveness(ping=self._ping, dead=self._dead)

    def _ping(self) -> None:
        self.waiting.append(asyncio.get_running_loop().create_future())
        self.send(b"*1\r\n$4\r\nPING\r\n")

    def _dead(self, silent: float) -> None:
        log.warning("input pipe: nothing from Redis for %.1f s (a half-open connection); "
                    "replacing it", silent)  # fmt: skip
        if self.transport is not None:
            self.transport.abort()  # connection_lost fails every waiting call

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
        self.liveness.received()
        self.reader.feed(data)
        waiting = self.waiting
        while (reply := self.reader.gets()) is not False:
            future = waiting.popleft()
            if not future.done():
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.liveness.stop()
        self.transport = None
        error = RedisConnectionError(f"Redis connection lost: {exc}")
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class Pipe:
    """EVALSHA over one connection; `call` falls back to redis.asyncio for NOSCRIPT."""

    def __init__(self) -> None:
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future | None = None
        self.reconnects = 0  # connections replaced after one was lost (gateway.stats counts)

    async def call(self, script, *, keys: list, args: list, fallback):
        """Run `script` (a redis.asyncio Script); `fallback()` is its own awaitable call."""
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

    async def commands(self, *commands: tuple) -> list:
        """Other commands (not scripts), pipelined the same way and answered in order: the
        sockets' small calls (slots, snapshots, round trips), a thousand at once after a
        restart, without a pool checkout and a connection each."""
        try:
            protocol = await self._connected()
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc}") from exc
        loop = asyncio.get_running_loop()
        futures = []
        for parts in commands:
            futures.append(loop.create_future())
            protocol.waiting.append(futures[-1])
            protocol.send(hiredis.pack_command(parts))
        # Every future awaited, so that a lost connection's error is not left unretrieved.
        replies = await asyncio.gather(*futures, return_exceptions=True)
        for reply in replies:
            if isinstance(reply, BaseException):
                raise reply
            if isinstance(reply, hiredis.ReplyError):
                raise ResponseError(str(reply))
        return replies

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
        transport, protocol = await redisconn.open_connection(_Protocol)
        commands = redisconn.handshake("inputs")
        futures = []
        for command in commands:
            futures.append(loop.create_future())
            protocol.waiting.append(futures[-1])
            transport.write(hiredis.pack_command(command))
        try:
            replies = await asyncio.wait_for(asyncio.gather(*futures), timeout=3)
            redisconn.check_handshake(commands, replies)
        except BaseException:
            transport.abort()
            raise
        protocol.liveness.start()
        if self._protocol is not None:
            self.reconnects += 1
        self._protocol = protocol
        return protocol

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            with contextlib.suppress(Exception):
                self._protocol.transport.close()
