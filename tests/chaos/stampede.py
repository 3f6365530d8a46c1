"""The players of the reconnect stampede, as one separate process (no Django):

    python -m tests.chaos.stampede <spec.json>

The spec: ``{"base": "ws://host:port", "origin": ..., "arrivals_per_s": r, "players":
[{"match", "cookie", "slot", "name", "host"}, ...]}`` (``host``: the local address a player's
sockets come from; the players first arrive at r a second, the stampede is the return).
Each player holds its seat the way the browser does (frontend/static/frontend/net.js: the
socket opened again after a loss with exponential backoff and full jitter, none after a final
close) on the load tool's websocket client, which holds a thousand sockets in one process
(realtime/dev/loadtest/wsclient.py); compact states are counted, not decoded.

A player is *seated* once a welcome named it a player of its own slot under its own name and
two states followed. Lines on stdout (JSON): ``{"event": "seated", "at": t}`` when every player
is seated (again), t the monotonic time the last one got there; ``{"event": "report", ...}``
after ``report`` on stdin, then it exits. ``quit`` on stdin closes every socket and exits.
"""

import asyncio
import contextlib
import json
import random
import sys
import time

import uvloop

from realtime.dev.loadtest import backoff, wsclient

STATES_TO_SEAT = 2
CONNECT_TIMEOUT_S = 30.0  # a browser waits as long for a handshake nginx holds back


class Player:
    def __init__(self, spec: dict, fleet: "Fleet", index: int) -> None:
        self.match, self.cookie, self.slot = spec["match"], spec["cookie"], spec["slot"]
        self.name, self.host = spec["name"], spec.get("host")
        self.fleet = fleet
        self.backoff = backoff.Backoff(random.Random(index))
        self.seated_at: float | None = None  # when the current socket seated it; None: away
        self.states = 0  # since the current socket's welcome
        self.welcomed = False
        self.wrong: list[str] = []  # welcomes that did not give it its own seat
        self.attempts = 0
        self.sockets = 0  # handshakes that were accepted
        self.refused: dict[str, int] = {}  # handshakes refused (HTTP status) or failed
        self.closes: dict[str, int] = {}  # server closes (code) of sockets that were open
        self.final: int | None = None  # a close after which it stopped
        self.conn: wsclient.Connection | None = None

    async def run(self, stop: asyncio.Event, *, start_in: float) -> None:
        url = f"{self.fleet.base}/ws/matches/{self.match}/?encoding=compact"
        with contextlib.suppress(TimeoutError):  # players arrive over time, not all at once
            await asyncio.wait_for(stop.wait(), start_in)
        while not stop.is_set():
            self.attempts += 1
            self.states, self.welcomed = 0, False
            try:
                self.conn = conn = await wsclient.connect(
                    url, origin=self.fleet.origin, headers={"Cookie": self.cookie},
                    on_message=self.on_message, timeout=CONNECT_TIMEOUT_S,
                    local_host=self.host,
                )  # fmt: skip
            except wsclient.HandshakeError as exc:
                _count(self.refused, str(exc.status or "refused"))
            except (OSError, TimeoutError) as exc:
                _count(self.refused, type(exc).__name__)
            else:
                self.sockets += 1
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({conn.closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if stop.is_set():
                    conn.close()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(conn.closed), 2)
                    conn.abort()
                    return
                conn.abort()
                self.unseat()
                code = conn.close_code
                _count(self.closes, str(code) if code is not None else "none")
                if backoff.is_final(code):
                    self.final = code
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.backoff.next_delay())

    def on_message(self, payload: bytes, binary: bool) -> None:
        if binary:  # a compact state (keyframe or delta): counted, not decoded
            if self.welcomed:
                self.states += 1
                if self.states == STATES_TO_SEAT:
                    self.seat()
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "welcome":
            names = {p["slot"]: p["name"] for p in message.get("players", [])}
            own = (message.get("role"), message.get("slot"), names.get(message.get("slot")))
            if own == ("player", self.slot, self.name):
                self.welcomed = True
                self.backoff.reset()
            else:
                self.wrong.append(
                    f"{message.get('role')} slot {message.get('slot')} "
                    f"as {names.get(message.get('slot'))!r}"
                )
        elif kind == "ping":
            self.conn.send_text(json.dumps({"type": "pong", "v": 1, "id": message["id"]}).encode())

    def seat(self) -> None:
        self.seated_at = time.monotonic()
        self.fleet.seated_changed(+1)

    def unseat(self) -> None:
        if self.seated_at is not None:
            self.seated_at = None
            self.fleet.seated_changed(-1)


class Fleet:
    def __init__(self, spec: dict) -> None:
        self.base, self.origin = spec["base"], spec["origin"]
        self.arrivals_per_s = float(spec.get("arrivals_per_s", 1e9))
        self.players = [Player(p, self, i) for i, p in enumerate(spec["players"])]
        self.seated = 0
        self.last_seated_at: dict[int, float] = {}

    def seated_changed(self, delta: int) -> None:
        self.seated += delta
        if self.seated == len(self.players):
            emit({"event": "seated", "at": time.monotonic()})

    def report(self) -> dict:
        totals = {"refused": {}, "closes": {}}
        for p in self.players:
            for kind in totals:
                for key, n in getattr(p, kind).items():
                    _count(totals[kind], key, n)
        return {
            "event": "report",
            "players": len(self.players),
            "seated": self.seated,
            "seated_at": [p.seated_at for p in self.players],
            "attempts": sum(p.attempts for p in self.players),
            "sockets": sum(p.sockets for p in self.players),
            "wrong_seats": [w for p in self.players for w in p.wrong][:20],
            "wrong_seat_count": sum(len(p.wrong) for p in self.players),
            "final_closes": sorted({p.final for p in self.players if p.final is not None}),
            **totals,
        }

    async def serve(self) -> None:
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(p.run(stop, start_in=i / self.arrivals_per_s))
                 for i, p in enumerate(self.players)]  # fmt: skip
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = (await reader.readline()).decode().strip()
            if line == "report":
                emit(self.report())
            elif line in ("quit", ""):  # "" : the test went away
                break
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def _count(counter: dict, key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def emit(line: dict) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        fleet = Fleet(json.load(spec_file))
    uvloop.run(fleet.serve())
