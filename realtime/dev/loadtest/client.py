"""One load-test bot: a browser's exchange with the server, done by a script.

It uses the lobby API with a session cookie and a CSRF token, opens the match socket with
the site's Origin, answers the server's pings, sends inputs at a set rate and measures what
a player would notice: gaps between state updates, ticks it never saw, and the time from an
input to the first state that reflects it.
"""

import asyncio
import contextlib
import http.cookiejar
import json
import logging
import random
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

from matches.titles import wire, wirecodec
from realtime.dev.loadtest import backoff, policies, wsclient
from realtime.engine.stats import percentile

log = logging.getLogger(__name__)

BUCKET_MS = 0.5
BUCKETS = 4000  # 0 .. 2 s


def bucket(ms: float) -> int:
    return min(BUCKETS - 1, max(0, int(ms / BUCKET_MS)))


@dataclass
class Window:
    """What the clients of one process measured since the last report; merges by addition."""

    states: int = 0
    missed: int = 0
    gaps: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    latency: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    errors: dict[str, int] = field(default_factory=dict)
    closes: dict[str, int] = field(default_factory=dict)
    inputs: int = 0
    state_bytes: int = 0  # payload bytes of the state messages received (text or compact)
    state_messages: int = 0
    reconnects: int = 0  # sockets opened again after a loss or a refused handshake

    def merge(self, other: "Window") -> None:
        self.states += other.states
        self.state_bytes += other.state_bytes
        self.state_messages += other.state_messages
        self.missed += other.missed
        self.inputs += other.inputs
        self.reconnects += other.reconnects
        for i in range(BUCKETS):
            self.gaps[i] += other.gaps[i]
            self.latency[i] += other.latency[i]
        for mine, theirs in ((self.errors, other.errors), (self.closes, other.closes)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v

    def summary(self, *, tick_hz: int) -> dict:
        period_ms = 1000 / tick_hz
        over = sum(c for i, c in enumerate(self.gaps) if (i + 1) * BUCKET_MS > 1.5 * period_ms)
        gaps = sum(self.gaps)
        seen = self.states + self.missed
        return {
            "states": self.states,
            "delivered_ratio": round(self.states / seen, 5) if seen else 0.0,
            "missed_ticks": self.missed,
            "gap_p50_ms": pct(self.gaps, 0.5),
            "gap_p99_ms": pct(self.gaps, 0.99),
            "gap_max_ms": _max(self.gaps),
            "gaps_over_1_5_periods": round(over / gaps, 5) if gaps else 0.0,
            "input_latency_p50_ms": pct(self.latency, 0.5),
            "input_latency_p99_ms": pct(self.latency, 0.99),
            "inputs": self.inputs,
            "reconnects": self.reconnects,
            # Every state goes to every player: a state's bytes times the tick rate.
            "state_bytes_per_player_s": round(self.state_bytes / self.state_messages * tick_hz)
            if self.state_messages
            else 0,
            "errors": dict(self.errors),
            "closes": dict(self.closes),
        }


def pct(hist: list[int], q: float) -> float:
    return round(percentile(hist, q) * BUCKET_MS / 0.1, 2)  # stats.percentile assumes 0.1 ms


def _max(hist: list[int]) -> float:
    top = max((i for i, c in enumerate(hist) if c), default=-1)
    return (top + 1) * BUCKET_MS


class _BrowserCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://localhost as a secure context and send Secure cookies to it."""

    def return_ok_secure(self, cookie, request) -> bool:
        host = urlsplit(request.get_full_url()).hostname or ""
        if host in {"localhost", "127.0.0.1", "::1"}:
            return True
        return super().return_ok_secure(cookie, request)


class Lobby:
    """The lobby API as a browser uses it: a cookie jar, the CSRF token, the Origin."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        parts = urlsplit(self.base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.jar = http.cookiejar.CookieJar(policy=_BrowserCookiePolicy())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Origin", self.origin)
        request.add_header("Referer", self.origin + "/")
        if self.csrf:
            request.add_header("X-CSRFToken", self.csrf)
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def sign_in(self, name: str) -> None:
        self.csrf = self.call("GET", "/api/csrf")["csrf_token"]
        self.call("POST", "/api/me", {"display_name": name})

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class BotClient:
    """Plays one seat over a real websocket, as the title's policy says (its loadtest.py)."""

    def __init__(
        self, *, lobby: Lobby, public_id: str, input_hz: float, seed: int, title: str = "pong",
        encoding: str = "v1", ws_base: str | None = None, local_host: str | None = None,
    ) -> None:  # fmt: skip
        """``ws_base`` (``ws://host:port``): where the socket goes when not to the lobby's
        server (a proxy in front of several); ``local_host``: the address it comes from."""
        self.lobby = lobby
        self.ws_base, self.local_host = ws_base, local_host
        self.encoding = encoding
        self.decoder: wirecodec.Decoder | None = None  # a compact welcome's
        self.resync_at = -1e9
        self.public_id = public_id
        self.input_hz = input_hz
        self.policy = policies.policy(title)
        self.rng = random.Random(seed)
        self.window = Window()
        self.slot: int | None = None
        self.last_tick: int | None = None
        self.last_at: float | None = None
        self.pending: tuple[dict, float] | None = None  # (input, sent at) awaiting a state
        self.latest: dict | None = None  # the last state's snapshot
        self.conn: wsclient.Connection | None = None
        self.closed = asyncio.Event()
        self.over = False
        self.backoff = backoff.Backoff(self.rng)
        self.over_message: dict | None = None  # the server's last word: status and result

    def take_window(self) -> Window:
        window, self.window = self.window, Window()
        return window

    async def run(self, stop: asyncio.Event) -> None:
        """Play until the match is over, a close says trying again cannot help, or ``stop``;
        a lost socket (or a refused handshake) is opened again after the browser's backoff,
        and each attempt after the first is counted in ``reconnects``."""
        parts = urlsplit(self.lobby.base)
        base = self.ws_base or f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"
        url = f"{base}/ws/matches/{self.public_id}/?encoding={self.encoding}"
        try:
            while not await self._play_socket(url, stop):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.backoff.next_delay())
                if stop.is_set():
                    break
                self.window.reconnects += 1
        finally:
            self.closed.set()

    async def _play_socket(self, url: str, stop: asyncio.Event) -> bool:
        """One socket, until it closes; True when no other should follow."""
        self.decoder, self.pending = None, None
        try:
            self.conn = conn = await wsclient.connect(
                url, origin=self.lobby.origin, headers={"Cookie": self.lobby.cookie_header()},
                on_message=self._on_message, local_host=self.local_host,
            )  # fmt: skip
        except wsclient.HandshakeError as exc:
            self._count(self.window.errors, f"handshake_{exc.status or 'refused'}")
            return False
        except (OSError, TimeoutError) as exc:
            self._count(self.window.errors, type(exc).__name__)
            return False
        sender = asyncio.create_task(self._send_inputs(stop))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({conn.closed, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not conn.closed.done():  # our own close: not counted, the server did nothing wrong
                conn.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(conn.closed), 2.0)
                return True
            if self.over or stop.is_set():
                return True
            code = conn.close_code
            why = str(code) if code is not None else f"none_{conn.ended_by}"
            if code is None:  # the server never does this on purpose: the addresses, for its logs
                log.warning(
                    "socket %s lost without a close frame: %r", conn.addresses(), conn.lost_by
                )
            self._count(self.window.closes, why)
            return backoff.is_final(code)
        finally:
            sender.cancel()
            stopping.cancel()
            conn.abort()

    def _on_message(self, payload: bytes, binary: bool) -> None:
        now = time.perf_counter()
        try:
            message = self._decode(payload, now) if binary else orjson.loads(payload)
            if message is None:
                return
            kind = message.get("type")
            if kind == "state":
                self.window.state_messages += 1
                self.window.state_bytes += len(payload)
                self._on_state(message, now)
            elif kind == "ping":
                self.conn.send_text(orjson.dumps({"type": "pong", "v": 1, "id": message["id"]}))
            elif kind == "welcome":
                self.backoff.reset()  # a healthy socket: the next loss starts afresh
                self.slot = message.get("slot")
                if message.get("encoding") == "compact":
                    self.decoder = wirecodec.Decoder(wire.Schema(message["wire"]))
            elif kind == "error":
                self._count(self.window.errors, message.get("code", "?"))
            elif kind == "over":
                self.over, self.over_message = True, message
                if self.conn is not None:  # else it came with the handshake: the server closes
                    self.conn.close()
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, IndexError):
            self._count(self.window.errors, "unreadable_message")

    def _decode(self, payload: bytes, now: float) -> dict | None:
        """A compact frame as codec.js takes it: a delta that cannot apply asks for a
        keyframe (counted; at most every 0.6 s, the server's limit is 0.5 s)."""
        if self.decoder is None:
            self._count(self.window.errors, "binary_before_welcome")
            return None
        try:
            return self.decoder.decode(payload)
        except wire.WireError:
            self.window.state_messages += 1
            self.window.state_bytes += len(payload)
            self.decoder.frame = None
            if now - self.resync_at >= 0.6:
                self.resync_at = now
                self._count(self.window.errors, "resync")
                self.conn.send_text(orjson.dumps({"type": "resync", "v": 1}))
            return None

    def _on_state(self, message: dict, now: float) -> None:
        window = self.window
        tick = message["tick"]
        if self.last_tick is not None and tick > self.last_tick:
            window.missed += tick - self.last_tick - 1
            window.gaps[bucket((now - self.last_at) * 1000)] += 1
        if self.last_tick is None or tick > self.last_tick:
            self.last_tick, self.last_at = tick, now
            window.states += 1
        state = self.latest = message["state"]
        if self.pending is not None and self.slot is not None:
            shown = self.policy.shows(state, self.slot, self.pending[0])
            if shown:
                window.latency[bucket((now - self.pending[1]) * 1000)] += 1
            if shown is not False:
                self.pending = None

    async def _send_inputs(self, stop: asyncio.Event) -> None:
        """Play like a person would: a new input when it changes (or, for titles played with
        the mouse, at the input rate)."""
        if self.input_hz <= 0:
            return
        period = 1 / self.input_hz
        await asyncio.sleep(self.rng.random() * period)
        seq, current = 0, None
        while not stop.is_set():
            now = time.perf_counter()
            if self.pending is not None and now - self.pending[1] > 2.0:
                self._count(self.window.errors, "input_not_reflected_in_2s")
                self.pending = None
            state, slot = self.latest, self.slot
            wanted = (
                self.policy.decide(state, slot, self.rng) if state and slot is not None else None
            )
            if wanted is not None and (wanted != current or self.policy.sends_unchanged):
                seq, current = seq + 1, wanted
                self.conn.send_text(
                    orjson.dumps({"type": "input", "v": 1, "seq": seq, "input": wanted})
                )
                self.window.inputs += 1
                pending = self.pending
                if pending is not None and self.policy.measured(pending[0]) != self.policy.measured(
                    wanted
                ):
                    pending = None  # superseded before a state showed it: not measured
                if pending is None and self.policy.shows(state, slot, wanted) is False:
                    pending = (wanted, now)
                self.pending = pending
            await asyncio.sleep(period)

    @staticmethod
    def _count(counter: dict[str, int], key: str) -> None:
        counter[key] = counter.get(key, 0) + 1
