"""The soak's load: players through the whole match lifecycle, in one load process.

Pairs of guests (a session and its cookie each, kept for the whole run) play short Pong
matches to the end: the host creates one (now and then leaving it while it waits and
joining again) and the other joins, or both ask quick play. After the ``over`` they close,
pause as people do and come back as the same players (the lobby must still say who they are:
counted otherwise). Some drop their socket mid-match and reconnect within the grace period.
Spectators open running matches for a while and go. Finished matches' replays are fetched
over HTTP once the lobby says they have one.

Each report hands the soak what the clients measured (players' and spectators' windows: gaps,
closes, errors) and every match a player saw end, to check against the database.
"""

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import random
import sys
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import uvloop

from matches.titles import LoadPolicy
from realtime.dev.loadtest.client import BUCKETS, BotClient, Lobby, Window, bucket
from realtime.dev.loadtest.fleet import LOBBY_ERRORS

TITLE = "pong"
QUICKPLAY_POLL_S = 1.0  # the lobby page asks about once a second (docs/protocol.md)
QUICKPLAY_GIVE_UP_S = 60.0
REPLAY_WAIT_S = 90.0  # the default worker writes the replay; under load it may lag
REPLAY_FRAMES = 60
RETRY_S = 1.0
DROP_AFTER_S = (2.0, 8.0)  # a mid-match drop, this long after the socket opened
RECONNECT_AFTER_S = (0.5, 2.0)  # well within RECONNECT_GRACE_S (30 s)
WATCH_S = (5.0, 20.0)
# The final state seen and no `over` this long after: the server lost it (counted), the
# player gives up on the socket as a person would.
OVER_WAIT_S = 30.0
PAUSE_S = (0.5, 3.0)  # between a match's end and the next
# The title's policy returns nearly every ball, and a Pong point between two of them lasted
# ~30 s; players who now and then look away for a second end points in seconds, so that
# thousands of matches finish in a soak.
LAPSE_PER_DECISION = 0.02
LAPSE_S = 1.0
LAG_PROBE_S = 0.01


class Lapsing(LoadPolicy):
    """A title's policy, but holding still for ``LAPSE_S`` now and then."""

    def __init__(self, policy: LoadPolicy) -> None:
        self.policy = policy
        self.sends_unchanged = policy.sends_unchanged
        self.until = 0.0

    def decide(self, state, slot, rng):
        now = time.monotonic()
        if now >= self.until and rng.random() < LAPSE_PER_DECISION:
            self.until = now + LAPSE_S
        return {"dir": 0} if now < self.until else self.policy.decide(state, slot, rng)

    def shows(self, state, slot, sent):
        return self.policy.shows(state, slot, sent)

    def measured(self, sent):
        return self.policy.measured(sent)


class Lifecycle:
    def __init__(
        self, *, base_url: str, pairs: int, spectators: int, index: int, score_to: tuple,
        created_share: float, drop_share: float, replay_share: float, input_hz: float = 10.0,
    ) -> None:  # fmt: skip
        self.base_url, self.pairs, self.spectators, self.index = base_url, pairs, spectators, index
        self.score_to, self.input_hz = score_to, input_hz
        self.created_share, self.drop_share, self.replay_share = (
            created_share, drop_share, replay_share,
        )  # fmt: skip
        self.rng = random.Random(os.getpid() ^ index)
        self.stop = asyncio.Event()
        self.events: set[asyncio.Event] = set()  # every client's own stop, set on stop
        self.players: list[BotClient] = []
        self.watchers: list[BotClient] = []
        self.retired = Window()  # players' windows of closed sockets, until reported
        self.retired_watchers = Window()
        self.ended: list[dict] = []  # matches seen to end since the last report
        self.counts: dict[str, int] = {}
        self.tasks: list[asyncio.Task] = []
        # How late this process's own event loop wakes (LAG_PROBE_S sleeps): a late loop reads
        # every socket's states late, which the gaps would blame on the server.
        self.lag = [0] * BUCKETS

    # --- the orchestrator's side ---------------------------------------------------------------
    async def serve(self, conn) -> None:
        loop = asyncio.get_running_loop()
        # Lobby calls are blocking urllib ones, in threads: a few per pair at once at most.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=24))
        while True:
            command, _ = await loop.run_in_executor(None, conn.recv)
            if command == "start":
                self.tasks += [asyncio.create_task(self._pair(n)) for n in range(self.pairs)]
                self.tasks += [
                    asyncio.create_task(self._spectator(n)) for n in range(self.spectators)
                ]
                self.tasks.append(asyncio.create_task(self._probe_lag()))
                conn.send(("started", None))
            elif command == "report":
                conn.send(("report", self._report()))
            elif command == "stop":
                self.stop.set()
                for event in self.events:
                    event.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 30)
                conn.send(("stopped", self._report()))
                return

    def _report(self) -> dict:
        players, self.retired = self.retired, Window()
        watchers, self.retired_watchers = self.retired_watchers, Window()
        for client in self.players:
            players.merge(client.take_window())
        for client in self.watchers:
            watchers.merge(client.take_window())
        ended, self.ended = self.ended, []
        counts, self.counts = self.counts, {}
        lag, self.lag = self.lag, [0] * BUCKETS
        return {
            "players": players, "spectators": watchers, "ended": ended, "counts": counts,
            "loop_lag": lag,
            "players_connected": len(self.players), "spectators_connected": len(self.watchers),
        }  # fmt: skip

    # --- helpers -------------------------------------------------------------------------------
    def _count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def _error(self, window: Window, exc: Exception) -> None:
        reason = getattr(exc, "code", None) or type(exc).__name__
        if isinstance(exc, urllib.error.HTTPError):
            with contextlib.suppress(Exception):
                reason = f"{exc.code}_{json.loads(exc.read())['error']}"
        key = f"lobby_{reason}"
        window.errors[key] = window.errors.get(key, 0) + 1

    async def _probe_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            asked = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.lag[bucket((loop.time() - asked) * 1000)] += 1

    async def _sleep(self, seconds: float) -> bool:
        """Wait, or less if the run stops; True when it stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    async def _call(self, lobby: Lobby, method: str, path: str, body: dict | None = None,
                    *, window: Window | None = None, attempts: int = 5) -> dict | None:  # fmt: skip
        """A lobby call, tried again after a refusal (counted) as a page would; None when it
        kept failing or the run stopped."""
        for _ in range(attempts):
            try:
                return await asyncio.to_thread(lobby.call, method, path, body)
            except LOBBY_ERRORS as exc:
                self._error(self.retired if window is None else window, exc)
                if isinstance(exc, urllib.error.HTTPError) and exc.code < 500:
                    return None  # refused: asking again gets the same answer
                if await self._sleep(RETRY_S):
                    return None
        return None

    async def _signed_in(self, name: str, window: Window) -> Lobby | None:
        lobby = Lobby(self.base_url)
        while not self.stop.is_set():
            try:
                await asyncio.to_thread(lobby.sign_in, name)
                return lobby
            except LOBBY_ERRORS as exc:
                self._error(window, exc)
                await self._sleep(RETRY_S)
        return None

    async def _whoami(self, lobby: Lobby) -> int | None:
        me = await self._call(lobby, "GET", "/api/me")
        return me["player"]["id"] if me and me.get("player") else None

    def _client_stop(self) -> asyncio.Event:
        event = asyncio.Event()
        self.events.add(event)
        if self.stop.is_set():
            event.set()
        return event

    async def _set_after(self, event: asyncio.Event, seconds: float) -> None:
        await asyncio.sleep(seconds)
        event.set()

    # --- players -------------------------------------------------------------------------------
    async def _pair(self, n: int) -> None:
        await asyncio.sleep(self.rng.random() * 10)  # arrivals spread over the first seconds
        lobbies = []
        for i in range(2):
            lobby = await self._signed_in(f"soak{self.index}-{n}-{i}", self.retired)
            if lobby is None:
                return
            lobbies.append(lobby)
        ids = [await self._whoami(lobby) for lobby in lobbies]
        while not self.stop.is_set():
            if self.rng.random() < self.created_share:
                public_id = await self._create(lobbies)
                if public_id is not None:
                    await asyncio.gather(*(self._play(lobby, public_id, "created", host=i == 0)
                                           for i, lobby in enumerate(lobbies)))  # fmt: skip
            else:
                await asyncio.gather(*(self._quickplay(lobby) for lobby in lobbies))
            if await self._sleep(self.rng.uniform(*PAUSE_S)):
                return
            # Back at the lobby: the cookie still makes them the same players.
            for lobby, known in zip(lobbies, ids, strict=True):
                now = await self._whoami(lobby)
                if now is not None and now != known:
                    self.retired.errors["identity_changed"] = (
                        self.retired.errors.get("identity_changed", 0) + 1
                    )
            self._count("comebacks", 2)

    async def _create(self, lobbies: list[Lobby]) -> str | None:
        host, guest = lobbies
        settings = {"max_players": 2, "score_to": self.rng.choice(self.score_to)}
        created = await self._call(host, "POST", "/api/matches",
                                   {"title": TITLE, "settings": settings})  # fmt: skip
        if created is None:
            return None
        public_id = created["match"]["id"]
        path = f"/api/matches/{public_id}"
        if self.rng.random() < 0.1:
            # The host steps out of the waiting match and back in (the guest's join would
            # fill it and start the countdown, after which a leave is a forfeit).
            if await self._call(host, "POST", f"{path}/leave", {}) is None:
                return None
            if await self._call(host, "POST", f"{path}/join", {}) is None:
                return None
            self._count("left_waiting")
        if await self._call(guest, "POST", f"{path}/join", {}) is None:
            return None
        self._count("created")
        return public_id

    async def _quickplay(self, lobby: Lobby) -> None:
        waited = 0.0
        while not self.stop.is_set() and waited < QUICKPLAY_GIVE_UP_S:
            reply = await self._call(lobby, "POST", "/api/quickplay", {"title": TITLE})
            if reply is None:
                return
            ticket = reply["ticket"]
            if ticket["status"] == "matched":
                self._count("quickplay_bots" if ticket["with_bots"] else "quickplay_paired")
                await self._play(lobby, ticket["match"], "quickplay", host=True)
                return
            if await self._sleep(QUICKPLAY_POLL_S):
                return
            waited += QUICKPLAY_POLL_S
        self.retired.errors["quickplay_not_matched"] = (
            self.retired.errors.get("quickplay_not_matched", 0) + 1
        )

    async def _play(self, lobby: Lobby, public_id: str, mode: str, *, host: bool) -> None:
        """Play the seat until the match's ``over``, reconnecting after an own drop."""
        may_drop = self.rng.random() < self.drop_share
        while not self.stop.is_set():
            stop = self._client_stop()
            client = BotClient(lobby=lobby, public_id=public_id, input_hz=self.input_hz,
                               seed=self.rng.getrandbits(32), title=TITLE)  # fmt: skip
            client.policy = Lapsing(client.policy)
            self.players.append(client)
            dropper = None
            if may_drop:
                may_drop = False
                after = self.rng.uniform(*DROP_AFTER_S)
                dropper = asyncio.create_task(self._set_after(stop, after))
            watchdog = asyncio.create_task(self._await_over(client, stop))
            try:
                await client.run(stop)
            finally:
                watchdog.cancel()
                if dropper is not None:
                    dropper.cancel()
                self.events.discard(stop)
                self.players.remove(client)
                self.retired.merge(client.take_window())
            if not client.over and getattr(client, "over_lost", False):
                self.retired.errors["over_never_came"] = (
                    self.retired.errors.get("over_never_came", 0) + 1
                )
                self.ended.append({"match": public_id, "mode": mode, "slot": client.slot,
                                   "status": "finished_without_over", "result": None})  # fmt: skip
                return
            if client.over:
                message = client.over_message or {}
                self.ended.append({
                    "match": public_id, "mode": mode, "slot": client.slot,
                    "status": message.get("status"), "result": message.get("result"),
                })  # fmt: skip
                finished = message.get("status") == "finished"
                if host and finished and self.rng.random() < self.replay_share:
                    self.tasks.append(asyncio.create_task(self._replay(lobby, public_id)))
                return
            if self.stop.is_set() or not stop.is_set():
                return  # the server closed it (counted by the client) or the run ends
            self._count("dropped_mid_match")
            if await self._sleep(self.rng.uniform(*RECONNECT_AFTER_S)):
                return

    async def _await_over(self, client: BotClient, stop: asyncio.Event) -> None:
        """Stop the client when the final state came long ago and ``over`` never did."""
        final_at = None
        while not stop.is_set():
            await asyncio.sleep(1.0)
            if client.over:
                return
            if client.latest and client.latest.get("finished"):
                final_at = final_at or time.monotonic()
                if time.monotonic() - final_at > OVER_WAIT_S:
                    client.over_lost = True
                    stop.set()
                    return

    async def _replay(self, lobby: Lobby, public_id: str) -> None:
        """Watch the replay as the after-match page offers it: once the match has one."""
        path = f"/api/matches/{public_id}"
        waited = 0.0
        while waited < REPLAY_WAIT_S:
            reply = await self._call(lobby, "GET", path)
            if reply is None:
                return
            if reply["match"]["has_replay"]:
                query = f"/replay?from=0&count={REPLAY_FRAMES}"
                replay = await self._call(lobby, "GET", path + query)
                if replay is not None:
                    frames = len(replay["frames"])
                    self._count("replays_fetched" if frames else "replays_empty")
                    self._count("replay_frames", frames)
                return
            if await self._sleep(2.0):
                return
            waited += 2.0
        self.retired.errors["replay_never_available"] = (
            self.retired.errors.get("replay_never_available", 0) + 1
        )

    # --- spectators ----------------------------------------------------------------------------
    async def _spectator(self, n: int) -> None:
        await asyncio.sleep(5 + self.rng.random() * 10)
        lobby = await self._signed_in(f"watch{self.index}-{n}", self.retired_watchers)
        while lobby is not None and not self.stop.is_set():
            listing = await self._call(lobby, "GET", f"/api/matches?title={TITLE}",
                                       window=self.retired_watchers)  # fmt: skip
            if listing is None:
                return
            running = [m["id"] for m in listing["matches"] if m["status"] == "running"]
            if running:
                stop = self._client_stop()
                client = BotClient(lobby=lobby, public_id=self.rng.choice(running), input_hz=0,
                                   seed=0, title=TITLE)  # fmt: skip
                self.watchers.append(client)
                timer = asyncio.create_task(self._set_after(stop, self.rng.uniform(*WATCH_S)))
                try:
                    await client.run(stop)
                finally:
                    timer.cancel()
                    self.events.discard(stop)
                    self.watchers.remove(client)
                    self.retired_watchers.merge(client.take_window())
                self._count("spectated")
            if await self._sleep(self.rng.uniform(1.0, 5.0)):
                return


def _main(conn, kwargs: dict, nice: int, log_path: Path | None) -> None:
    if nice:
        os.nice(nice)  # as fleet.py: the server has the CPU first, figures only get worse
    if log_path is not None:  # its warnings and tracebacks beside the servers', for the checks
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - the process's own stderr
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    uvloop.run(Lifecycle(**kwargs).serve(conn))


def spawn(
    count: int, *, nice: int, log_dir: Path | None = None, **kwargs
) -> list[tuple[multiprocessing.Process, object]]:
    """``count`` load processes sharing out ``pairs`` and ``spectators``; each logs to
    ``load-<index>.log`` in ``log_dir`` if given."""
    ctx = multiprocessing.get_context("spawn")
    out = []
    for index in range(count):
        share = {k: kwargs[k] // count + (index < kwargs[k] % count)
                 for k in ("pairs", "spectators")}  # fmt: skip
        parent, child = ctx.Pipe()
        log_path = log_dir / f"load-{index}.log" if log_dir is not None else None
        args = (child, {**kwargs, **share, "index": index}, nice, log_path)
        proc = ctx.Process(target=_main, args=args, name=f"soak-load-{index}", daemon=True)
        proc.start()
        out.append((proc, parent))
    return out
