"""A network-impairment proxy: a user-space TCP proxy that delays, jitters, caps and stalls
the bytes between clients and Daphne (this machine's kernel has no netem).

Each direction of each connection is a pipe: the reader stamps every chunk it reads with the
time it may leave, the writer sends chunks at their times, in the order read. A chunk leaves
after the link has serialised it (the bandwidth cap) plus the one-way delay plus a uniform
jitter, and never before the chunk ahead of it: TCP delivers in order, so jitter makes bytes
bunch up behind a late one rather than overtake it. A lost segment is, to an application on
TCP, a stall of the stream until the retransmission: with probability ``loss`` a chunk (and
everything behind it) waits ``stall_ms`` more. The writer's queue is bounded, so a slow
reader pushes back on the sender as a real path would.

``ImpairedProxy`` runs on the caller's event loop; ``proxy_thread`` runs one on a loop of its
own for sync code (browser tests, benchmarks); ``manage.py netem`` runs one standalone.
"""

import asyncio
import contextlib
import dataclasses
import random
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 16 * 1024
QUEUE_CHUNKS = 256  # per direction: past this the reader stops reading (back-pressure)


@dataclass(frozen=True)
class Profile:
    """One direction's impairment (both directions get the same): ``delay_ms`` is one way,
    half the round trip; ``jitter_ms`` is the spread either side of it."""

    name: str
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0  # the share of chunks that stall the stream
    stall_ms: float = 200.0  # a retransmission's wait
    rate_kbps: float = 0.0  # the link's bandwidth cap, kilobits per second; 0: none

    @property
    def rtt_ms(self) -> float:
        return 2 * self.delay_ms

    def describe(self) -> str:
        parts = [f"{self.rtt_ms:g} ms RTT"]
        if self.jitter_ms:
            parts.append(f"± {self.jitter_ms:g} ms per direction")
        if self.loss:
            parts.append(f"{self.loss:.0%} stalls of {self.stall_ms:g} ms")
        if self.rate_kbps:
            parts.append(f"{self.rate_kbps:g} kbit/s")
        return ", ".join(parts)


# The named profiles of issue #22 (docs/benchmarks.md measures the client through each).
PROFILES = {
    "lan": Profile("lan", delay_ms=0.5),
    "broadband": Profile("broadband", delay_ms=20, jitter_ms=5),
    "mobile": Profile("mobile", delay_ms=60, jitter_ms=30, loss=0.01, stall_ms=200),
    "bad": Profile("bad", delay_ms=125, jitter_ms=60, loss=0.03, stall_ms=200),
}


def profile(name: str, **overrides) -> Profile:
    """A named profile, with any field overridden (None leaves it)."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (known: {', '.join(PROFILES)})")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(PROFILES[name], **changes)


@dataclass
class DirectionStats:
    bytes: int = 0
    chunks: int = 0
    stalls: int = 0


class _Pipe:
    """One direction of one connection."""

    def __init__(self, profile: Profile, rng: random.Random, stats: DirectionStats) -> None:
        self.profile = profile
        self.rng = rng
        self.stats = stats
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_CHUNKS)
        self.link_free = 0.0  # when the capped link has sent what it holds
        self.last_release = 0.0

    def release_at(self, now: float, size: int) -> float:
        p = self.profile
        sent = now
        if p.rate_kbps:
            sent = self.link_free = max(now, self.link_free) + size * 8 / (p.rate_kbps * 1000)
        delay = p.delay_ms + (self.rng.uniform(-p.jitter_ms, p.jitter_ms) if p.jitter_ms else 0)
        at = sent + max(0.0, delay) / 1000
        if p.loss and self.rng.random() < p.loss:
            self.stats.stalls += 1
            at += p.stall_ms / 1000
        self.last_release = at = max(at, self.last_release)
        return at

    async def read(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        while chunk := await reader.read(CHUNK):
            self.stats.bytes += len(chunk)
            self.stats.chunks += 1
            await self.queue.put((self.release_at(loop.time(), len(chunk)), chunk))
        await self.queue.put((self.last_release, b""))  # a clean end: half-close after the rest

    async def write(self, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while True:
            at, chunk = await self.queue.get()
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()


class ImpairedProxy:
    """Listens on ``listen``; each connection is forwarded to ``upstream`` through the profile."""

    def __init__(
        self, *, upstream: tuple[str, int], profile: Profile,
        listen: tuple[str, int] = ("127.0.0.1", 0), seed: int | None = None,
    ) -> None:  # fmt: skip
        self.upstream = upstream
        self.profile = profile
        self.listen = listen
        self.rng = random.Random(seed)
        self.up = DirectionStats()  # client → server
        self.down = DirectionStats()  # server → client
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, *self.listen)
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, c_reader, c_writer) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        self.connections += 1
        s_writer = None
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.upstream)
            up = _Pipe(self.profile, self.rng, self.up)
            down = _Pipe(self.profile, self.rng, self.down)
            # A reset on either side ends the whole connection (the group cancels the rest).
            async with asyncio.TaskGroup() as group:
                for pipe, reader, writer in ((up, c_reader, s_writer), (down, s_reader, c_writer)):
                    group.create_task(pipe.read(reader))
                    group.create_task(pipe.write(writer))
        except* (ConnectionError, OSError):
            pass
        except* asyncio.CancelledError:
            pass  # the proxy is closing
        finally:
            for writer in (c_writer, s_writer):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    def figures(self) -> dict:
        return {"connections": self.connections, "up": dataclasses.asdict(self.up),
                "down": dataclasses.asdict(self.down)}  # fmt: skip


@contextlib.contextmanager
def proxy_thread(*, upstream: tuple[str, int], profile: Profile,
                 listen: tuple[str, int] = ("127.0.0.1", 0),
                 seed: int | None = None) -> Iterator[ImpairedProxy]:  # fmt: skip
    """An ``ImpairedProxy`` on its own event loop in a daemon thread, closed on exit."""
    proxy = ImpairedProxy(upstream=upstream, profile=profile, listen=listen, seed=seed)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(proxy.start())
        except BaseException as exc:
            failed.append(exc)
            return
        finally:
            started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, name=f"netem-{profile.name}", daemon=True)
    thread.start()
    started.wait(10)
    if failed:
        loop.close()
        raise failed[0]
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@contextlib.contextmanager
def impaired_url(url: str, name: str | None, *, seed: int | None = None) -> Iterator[str]:
    """``url`` as seen through the named profile's proxy (``url`` itself when ``name`` is
    None): every HTTP request and websocket to the returned URL crosses the impairment."""
    if name is None:
        yield url
        return
    parts = urllib.parse.urlsplit(url)
    upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
    with proxy_thread(upstream=upstream, profile=profile(name), seed=seed) as proxy:
        yield parts._replace(netloc=f"{upstream[0]}:{proxy.port}").geturl()
