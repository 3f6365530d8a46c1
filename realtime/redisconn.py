"""How every process connects to Redis: the URL, TLS, the ACL user, Sentinel, the RESP
version and keep-alive, in one place (the settings are REDIS_* in config/settings.py).

Who uses it: ``store.client()`` (the sync redis-py client, whose pool also gives the tick
pipeline its connection), the gateway's redis.asyncio client, the health probe, the Celery
broker (the two transports below) and the hand-written connections of each Daphne (the hub
and the input pipe), which open their sockets and do their handshake with ``open_connection``
and ``handshake``. The channel layer's settings are built in config/settings.py.

Every connection speaks RESP2, said explicitly: redis-py 8 negotiates RESP3 by default, and on
RESP3 the server may put push messages (client tracking, a managed Redis' maintenance
notices) between replies, which a pipelined reader would take for the next reply.
"""

import asyncio
import functools
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel
from django.conf import settings
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)

PROTOCOL = 2


# --- parameters ------------------------------------------------------------------------------
class Target(NamedTuple):
    """Where to connect and as whom: from REDIS_URL (the host and port are the sentinels'
    answer when REDIS_SENTINELS is set)."""

    tls: bool
    host: str
    port: int
    path: str  # a Unix socket, or ""
    username: str | None
    password: str | None
    db: int


def target() -> Target:
    return _parse(settings.REDIS_URL)


@functools.cache
def _parse(url: str) -> Target:
    parts = urlsplit(url)
    is_unix = parts.scheme == "unix"
    db = parts.path.strip("/") if not is_unix else ""
    for item in parts.query.split("&"):
        if item.startswith("db="):
            db = item[3:]
    return Target(
        tls=parts.scheme == "rediss",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        path=parts.path if is_unix else "",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        db=int(db or 0),
    )


def sentinel_mode() -> bool:
    return bool(settings.REDIS_SENTINELS)


def keepalive_options() -> dict[int, int]:
    """TCP keep-alive probes, and TCP_USER_TIMEOUT so that data left unacknowledged (a peer
    that vanished mid-write) fails the socket too: both within REDIS_DEAD_AFTER_S."""
    idle = max(1, round(settings.REDIS_KEEPALIVE_S))
    options = {socket.TCP_KEEPIDLE: idle, socket.TCP_KEEPINTVL: 1,
               socket.TCP_KEEPCNT: max(1, round(settings.REDIS_DEAD_AFTER_S) - idle)}  # fmt: skip
    if hasattr(socket, "TCP_USER_TIMEOUT"):
        options[socket.TCP_USER_TIMEOUT] = int(settings.REDIS_DEAD_AFTER_S * 1000)
    return options


def tls_kwargs() -> dict:
    if not target().tls:
        return {}
    return {
        "ssl_cert_reqs": "required",
        "ssl_ca_certs": settings.REDIS_TLS_CA_FILE,
        "ssl_certfile": settings.REDIS_TLS_CERT_FILE or None,
        "ssl_keyfile": settings.REDIS_TLS_KEY_FILE or None,
    }


def client_kwargs(name: str) -> dict:
    """Keyword arguments of redis-py connections (sync and asyncio) beyond the URL's."""
    return {"protocol": PROTOCOL, "client_name": f"arcade:{name}", "socket_keepalive": True,
            "socket_keepalive_options": keepalive_options(), **tls_kwargs()}  # fmt: skip


def _sentinel_kwargs() -> dict:
    return {"protocol": PROTOCOL, "password": settings.REDIS_SENTINEL_PASSWORD or None,
            "socket_connect_timeout": 1, "socket_timeout": 1}  # fmt: skip


def _master_kwargs(name: str) -> dict:
    t = target()
    return {"username": t.username, "password": t.password, "db": t.db, "ssl": t.tls,
            **client_kwargs(name)}  # fmt: skip


class _SentinelBlockingPool(redis.sentinel.SentinelConnectionPool, redis.BlockingConnectionPool):
    """The primary's connections, found through Sentinel, from a pool that waits for a
    connection when all are taken (as store.client()'s does without Sentinel)."""


# --- redis-py clients ------------------------------------------------------------------------
def sync_client(name: str, *, blocking: bool = False, **options) -> redis.Redis:
    """A redis-py client; `blocking` pools wait for a free connection (options: its size,
    `max_connections`, and `timeout`)."""
    pool_options = {k: options.pop(k) for k in ("max_connections", "timeout") if k in options}
    if sentinel_mode():
        manager = redis.sentinel.Sentinel(settings.REDIS_SENTINELS,
                                          sentinel_kwargs=_sentinel_kwargs())  # fmt: skip
        pool_class = _SentinelBlockingPool if blocking else redis.sentinel.SentinelConnectionPool
        return manager.master_for(
            settings.REDIS_SENTINEL_MASTER, connection_pool_class=pool_class,
            **_master_kwargs(name), **options, **pool_options,
        )  # fmt: skip
    pool_class = redis.BlockingConnectionPool if blocking else redis.ConnectionPool
    pool = pool_class.from_url(settings.REDIS_URL, **client_kwargs(name), **options,
                               **pool_options)  # fmt: skip
    return redis.Redis(connection_pool=pool)


def async_client(name: str, *, blocking: bool = False, **options) -> aioredis.Redis:
    """A redis.asyncio client; a `blocking` pool waits for a free connection (options: its
    size, `max_connections`, and `timeout`) where redis-py's own refuses past 100 at once."""
    pool_options = {k: options.pop(k) for k in ("max_connections", "timeout") if k in options}
    if blocking and not sentinel_mode():
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, **client_kwargs(name), **options, **pool_options
        )
        return aioredis.Redis(connection_pool=pool)
    options.update({k: v for k, v in pool_options.items() if k == "max_connections"})
    if sentinel_mode():
        manager = aiosentinel.Sentinel(settings.REDIS_SENTINELS,
                                       sentinel_kwargs=_sentinel_kwargs())  # fmt: skip
        return manager.master_for(settings.REDIS_SENTINEL_MASTER, **_master_kwargs(name),
                                  **options)  # fmt: skip
    return aioredis.Redis.from_url(settings.REDIS_URL, **client_kwargs(name), **options)


# --- Celery's broker: kombu's transports, with RESP2 and the keep-alive ----------------------
class _Protocol2:
    def _connparams(self, asynchronous=False):
        params = super()._connparams(asynchronous)
        params.update(protocol=PROTOCOL, socket_keepalive=True,
                      socket_keepalive_options=keepalive_options())  # fmt: skip
        return params


class BrokerChannel(_Protocol2, kombu_redis.Channel):
    pass


class BrokerTransport(kombu_redis.Transport):
    Channel = BrokerChannel


class SentinelBrokerChannel(_Protocol2, kombu_redis.SentinelChannel):
    pass


class SentinelBrokerTransport(kombu_redis.SentinelTransport):
    Channel = SentinelBrokerChannel


# --- the hand-written connections (the hub, the input pipe) ----------------------------------
def ssl_context() -> ssl.SSLContext | None:
    if not target().tls:
        return None
    return _context(settings.REDIS_TLS_CA_FILE, settings.REDIS_TLS_CERT_FILE,
                    settings.REDIS_TLS_KEY_FILE)  # fmt: skip


@functools.cache
def _context(ca_file: str, cert_file: str, key_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if cert_file:
        context.load_cert_chain(cert_file, key_file or None)
    return context


async def primary_address() -> tuple[str, int]:
    """The primary's address: the URL's, or what the sentinels say now. OSError when they
    name none (mid-failover): the caller retries, as for a refused connection."""
    if not sentinel_mode():
        return target().host, target().port
    manager = aiosentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=_sentinel_kwargs())
    try:
        return await manager.discover_master(settings.REDIS_SENTINEL_MASTER)
    except redis.RedisError as exc:
        raise OSError(f"no Redis primary: {exc}") from exc
    finally:
        for sentinel in manager.sentinels:
            await sentinel.aclose()


async def open_connection(protocol_factory: Callable[[], asyncio.Protocol]):
    """(transport, protocol) to the primary, TLS as configured, with TCP keep-alive; the
    caller sends ``handshake`` before anything else."""
    loop = asyncio.get_running_loop()
    t = target()
    context = ssl_context()
    if t.path:
        opened = loop.create_unix_connection(protocol_factory, t.path, ssl=context,
                                             server_hostname="" if context else None)  # fmt: skip
    else:
        host, port = await asyncio.wait_for(primary_address(), timeout=3)
        opened = loop.create_connection(protocol_factory, host, port, ssl=context)
    transport, protocol = await asyncio.wait_for(opened, timeout=3)
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in keepalive_options().items():
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
    return transport, protocol


def handshake(name: str) -> list[tuple]:
    """The commands that open a hand-written connection: HELLO 2 (RESP2, the ACL user, the
    client's name), SELECT, and under Sentinel ROLE (the address may be a stale primary)."""
    t = target()
    hello = [b"HELLO", b"2"]
    if t.password:
        hello += [b"AUTH", (t.username or "default").encode(), t.password.encode()]
    commands = [(*hello, b"SETNAME", f"arcade:{name}".encode())]
    if t.db:
        commands.append((b"SELECT", str(t.db).encode()))
    if sentinel_mode():
        commands.append((b"ROLE",))
    return commands


def check_handshake(commands: list[tuple], replies: list) -> None:
    """Raise OSError (the connection is unusable: the caller retries) on a refused step."""
    import hiredis

    for command, reply in zip(commands, replies, strict=True):
        if isinstance(reply, hiredis.ReplyError):
            raise OSError(f"Redis refused {command[0].decode()}: {reply}")
        if command[0] == b"ROLE" and reply[0] != b"master":
            raise OSError(f"Redis at this address is a {reply[0].decode()}, not the primary")


class Liveness:
    """Half-open detection for a long-lived connection: after REDIS_KEEPALIVE_S without a byte
    from Redis it calls `ping`, and after REDIS_DEAD_AFTER_S it calls `dead` (a healthy
    connection answers a ping well within the difference)."""

    def __init__(self, *, ping: Callable[[], None], dead: Callable[[float], None]) -> None:
        self.ping, self.dead = ping, dead
        self.last_received = time.monotonic()
        self._pinged_at = 0.0
        self._task: asyncio.Task | None = None

    def received(self) -> None:
        self.last_received = time.monotonic()

    def start(self) -> None:
        self.last_received = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _watch(self) -> None:
        keepalive, dead_after = settings.REDIS_KEEPALIVE_S, settings.REDIS_DEAD_AFTER_S
        while True:
            await asyncio.sleep(min(keepalive, dead_after) / 4)
            now = time.monotonic()
            silent = now - self.last_received
            if silent >= dead_after:
                self._task = None
                self.dead(silent)
                return
            if silent >= keepalive and self._pinged_at < self.last_received:
                self._pinged_at = now
                self.ping()
