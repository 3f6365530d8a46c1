"""Many Redis script calls (and plain commands) in one pipeline, on a connection of their own.

The tick scheduler (``realtime.engine.scheduler``) sends the calls of every match due at once
as one pipeline: per-call overhead in redis-py would otherwise be most of the tick worker's
CPU (docs/benchmarks.md). Commands are packed by hiredis and replies parsed by one hiredis
reader fed whole socket reads.

The connection is redis-py's, from store's pool (TLS, ACL user, Sentinel as
``realtime.redisconn`` configures it), and speaks RESP2: on RESP3 a push message would be read
as the next reply and shift every later one onto the wrong call. A read that waits longer than
REDIS_DEAD_AFTER_S fails the batch (a half-open connection); the next batch reconnects, and
the replacement is counted (``redis_reconnects:ticks``).

Not thread-safe: one owner (the scheduler's loop) sends on it.
"""

import logging
import time
from typing import Any, NamedTuple

import hiredis
import redis
from django.conf import settings
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from realtime import redisconn

log = logging.getLogger(__name__)

IDLE_RECONNECT_S = 1.0


class Call(NamedTuple):
    """A script call."""

    script: Script
    keys: list
    args: list | tuple


class Command(NamedTuple):
    """A plain command, for what one native command does atomically (no Lua to run)."""

    args: tuple


def call_now(call: Call | Command, client: redis.Redis) -> Any:
    """One call on its own round trip through redis-py (tests, rare paths)."""
    if isinstance(call, Command):
        return client.execute_command(*call.args)
    return call.script(keys=call.keys, args=call.args, client=client)


def _pack(call: Call | Command) -> bytes:
    if isinstance(call, Command):
        return hiredis.pack_command(call.args)
    script, keys, args = call
    return hiredis.pack_command((b"EVALSHA", script.sha, len(keys), *keys, *args))


class ScriptPipeline:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.sent = 0  # pipelines sent (tests, benchmarks)
        self._conn = None
        self._reader: hiredis.Reader | None = None
        self._last_used = 0.0
        self._failed = False  # the last batch lost the connection
        self.reconnects = 0

    def run(self, calls: list[Call | Command]) -> list[Any]:
        """Each call's result, or the ResponseError it got, in order.

        Raises when the connection fails: then no call's outcome is known.
        """
        if not calls:
            return []
        self.sent += 1
        # Straight onto one connection: redis-py's Pipeline would check a connection out of the
        # pool (and poll it) per batch, and ask SCRIPT EXISTS per execute.
        try:
            sock, reader = self._connection()
            # hiredis packs str, bytes, int and float itself, in C.
            sock.sendall(b"".join(_pack(c) for c in calls))
            # One hiredis reader fed whole socket reads, rather than a read_response per reply.
            replies = []
            while len(replies) < len(calls):
                reply = reader.gets()
                if reply is False:
                    data = sock.recv(262144)
                    if not data:
                        raise RedisConnectionError("Redis closed the connection")
                    reader.feed(data)
                else:
                    replies.append(reply)
        except BaseException as exc:
            log.warning("tick pipeline: Redis connection failed (%s); reconnecting", exc)
            self._failed = True
            self._disconnect()
            raise
        return [self._result(call, reply) for call, reply in zip(calls, replies, strict=True)]

    def _result(self, call: Call | Command, reply: Any) -> Any:
        if not isinstance(reply, hiredis.ReplyError):
            return reply
        if isinstance(call, Call) and str(reply).startswith("NOSCRIPT"):
            # Redis restarted or was flushed: the script call loads it and runs again.
            try:
                return call_now(call, self.client)
            except ResponseError as exc:
                return exc
        return ResponseError(str(reply))

    def _connection(self):
        """The socket (redis-py connected it: AUTH, SELECT, TLS as configured) and a reader."""
        if self._conn is None:
            self._conn = self.client.connection_pool.make_connection()
        elif time.monotonic() - self._last_used > IDLE_RECONNECT_S:
            # Idle for a while: a Redis restart may have closed it under us. A new connection
            # is cheaper than finding out with a failed tick; while matches tick it never idles.
            self._disconnect()
        self._last_used = time.monotonic()
        if self._conn._sock is None:
            if self._conn.get_protocol() not in (redisconn.PROTOCOL, str(redisconn.PROTOCOL)):
                raise RuntimeError("the tick pipeline reads RESP2 only")
            self._conn.connect()
            self._conn._sock.settimeout(settings.REDIS_DEAD_AFTER_S)
            self._reader = hiredis.Reader()
            if self._failed:
                self._failed = False
                self.reconnects += 1  # the scheduler's flush counts it in /metrics
        return self._conn._sock, self._reader

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
