"""Load processes: each runs an event loop of bot clients and answers the orchestrator.

Several processes so that the load tool is not the bottleneck; they need no Django, only the
lobby API and the socket, like a browser.
"""

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import time

import uvloop

from realtime.dev.loadtest.client import BotClient, Lobby, Window

SIGN_IN_CONCURRENCY = 8
LOBBY_RETRY_S = 1.0
SIGN_IN_ATTEMPTS = 5
# What a refused or unanswered lobby call raises (urllib's errors are OSErrors).
LOBBY_ERRORS = (OSError, ValueError, KeyError)


def source_host(n: int, count: int) -> str:
    """The ``n``-th player's local address of ``count`` (1-250), all on the loopback's /8:
    a proxy's per-address limits see players from many addresses, as in the field."""
    return f"127.0.1.{n % count + 1}"


class Fleet:
    def __init__(self, *, base_url: str, title: str, players: int, input_hz: float,
                 settings: dict, index: int, encoding: str = "v1", ws_base: str | None = None,
                 source_hosts: int = 0) -> None:  # fmt: skip
        self.base_url, self.title, self.players = base_url, title, players
        self.encoding = encoding
        # Sockets to ws_base (a proxy) from that many local addresses; the lobby calls (set-up,
        # not measured) go to base_url's server directly.
        self.ws_base, self.source_hosts = ws_base, source_hosts
        self.sockets = itertools.count(index * 7919)  # the fleets' addresses interleave
        self.input_hz, self.settings, self.index = input_hz, settings, index
        self.stop = asyncio.Event()
        self.clients: list[BotClient] = []
        self.retired = Window()  # windows of clients whose match ended, until reported
        self.tasks: list[asyncio.Task] = []
        self.names = itertools.count()
        self.matches_started = 0
        self.sign_in = asyncio.Semaphore(SIGN_IN_CONCURRENCY)

    async def serve(self, conn) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "add":
                started = time.monotonic()
                results = await asyncio.gather(*(self._seat() for _ in range(arg)))
                self.tasks += [
                    asyncio.create_task(self._play(lobbies)) for lobbies in results if lobbies
                ]
                conn.send(("added", round(time.monotonic() - started, 2)))
            elif command == "report":
                window = self.retired
                self.retired = Window()
                for client in self.clients:
                    window.merge(client.take_window())
                conn.send(("report", window, len(self.clients), self.matches_started))
            elif command == "stop":
                self.stop.set()
                await asyncio.gather(*self.tasks, return_exceptions=True)
                conn.send(("stopped", None))
                return

    async def _seat(self) -> list[Lobby] | None:
        """Guests with a session each; none is in a match yet. None when the lobby kept
        refusing to sign one in (counted): the orchestrator's step goes on without them."""
        lobbies = []
        for _ in range(self.players):
            lobby = Lobby(self.base_url)
            name = f"load{self.index}-{next(self.names)}"
            for attempt in range(SIGN_IN_ATTEMPTS):
                try:
                    async with self.sign_in:
                        await asyncio.to_thread(lobby.sign_in, name)
                    break
                except LOBBY_ERRORS as exc:
                    self._lobby_error(exc)
                    if attempt == SIGN_IN_ATTEMPTS - 1 or await self._stopped_within(LOBBY_RETRY_S):
                        return None
            lobbies.append(lobby)
        return lobbies

    def _lobby_error(self, exc: Exception) -> None:
        reason = f"lobby_{getattr(exc, 'code', None) or type(exc).__name__}"
        self.retired.errors[reason] = self.retired.errors.get(reason, 0) + 1

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    async def _play(self, lobbies: list[Lobby]) -> None:
        """Create a match, fill it, play it; when it ends, the same players start another."""
        while not self.stop.is_set():
            try:
                public_id = await self._open_match(lobbies)
            except LOBBY_ERRORS as exc:
                # A lobby call the server refused or never answered: counted (the step does
                # not hold), and these players try again, as people would.
                self._lobby_error(exc)
                await self._stopped_within(LOBBY_RETRY_S)
                continue
            self.matches_started += 1
            clients = [
                BotClient(
                    lobby=lobby,
                    public_id=public_id,
                    input_hz=self.input_hz,
                    seed=hash((public_id, i)),
                    title=self.title,
                    encoding=self.encoding,
                    ws_base=self.ws_base,
                    local_host=source_host(next(self.sockets), self.source_hosts)
                    if self.source_hosts
                    else None,
                )
                for i, lobby in enumerate(lobbies)
            ]
            self.clients += clients
            await asyncio.gather(*(client.run(self.stop) for client in clients))
            for client in clients:
                self.clients.remove(client)
                self.retired.merge(client.take_window())
            if not any(client.over for client in clients):
                return  # closed for another reason (counted): do not hammer the server

    async def _open_match(self, lobbies: list[Lobby]) -> str:
        """The host creates a match of the title, the others join it; its public id."""
        host, *guests = lobbies
        async with self.sign_in:
            created = await asyncio.to_thread(
                host.call, "POST", "/api/matches",
                {"title": self.title, "settings": {"max_players": self.players, **self.settings}},
            )  # fmt: skip
            public_id = created["match"]["id"]
            for guest in guests:
                await asyncio.to_thread(guest.call, "POST", f"/api/matches/{public_id}/join", {})
        return public_id


def _main(conn, kwargs: dict, nice: int) -> None:
    if nice:
        # Sharing the machine with the server it measures, the load tool can yield the CPU to
        # it: its measurements are only ever delayed by that, never flattered.
        os.nice(nice)
    # uvloop: the load tool shares the machine with the server it measures, and asyncio's
    # own loop costs more per socket read than the frame parsing does (docs/benchmarks.md).
    uvloop.run(Fleet(**kwargs).serve(conn))


def spawn(count: int, nice: int = 0, **kwargs) -> list[tuple[multiprocessing.Process, object]]:
    ctx = multiprocessing.get_context("spawn")
    out = []
    for index in range(count):
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_main, args=(child, {**kwargs, "index": index}, nice),
                           daemon=True, name=f"loadtest-{index}")  # fmt: skip
        proc.start()
        out.append((proc, parent))
    return out


def cpu_seconds(pid: int) -> float:
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system
