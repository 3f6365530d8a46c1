"""The client under a real network, measured in real Chromium (manage.py bench_network).

Through each impairment profile (``realtime.dev.netem``) one page plays Pong against a bot:
it holds a paddle key for a quarter of a second, lets go, waits, the other way, and so on.
The page's probe (``frontend/static/frontend/probe.js``) times each key press to the first
drawn frame showing the own paddle moved, counts the remote objects drawn unmoved for more
than two frames while they move in the server's states (not in a serve wait, a pause or
after the end), files each such freeze by its cause (the timeline had no state to draw, it
held the picture, a frame came > 50 ms late, or the title drew it unmoved), and collects
the corrections the predicting client made; Playwright counts the websocket bytes the page
received. Snake's and Thrust Arena's bytes come from one page each in a match of bots.
"""

import math
import time

from playwright.sync_api import Browser, Page

from realtime.dev import netem

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
]  # fmt: skip
HOLD_S = 0.25
REST_S = 1.0  # long enough for the release to show at the worst profile before the next press

TAKE = """() => {
  const g = window.__game, p = g.probe, now = performance.now();
  const out = {latencies: p.latencies, pressFrames: p.pressFrames ?? [],
               corrections: p.corrections, freezes: p.freezes,
               causes: p.causes, log: p.log, frozenFrames: p.frozenFrames, frames: p.frames,
               ms: now - p.since};
  p.reset();
  return out;
}"""


CREATE = """async ({title, players}) => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const reply = await fetch("/api/matches", {method: "POST", headers: {
      "Content-Type": "application/json", "X-CSRFToken": csrf},
    body: JSON.stringify({title, fill_with_bots: true, join: true,
                          settings: {max_players: players}})});
  if (!reply.ok) throw new Error(`create ${title}: ${reply.status} ${await reply.text()}`);
  return (await reply.json()).match.id;
}"""


def quantile(values: list[float], q: float) -> float | None:
    """The nearest-rank q-quantile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))], 1)


class Session:
    """One person's page on the stack through one profile, playing quick-play Pong."""

    def __init__(self, browser: Browser, origin: str, *, netcode: bool) -> None:
        self.context = browser.new_context(base_url=origin, viewport={"width": 1100, "height": 760})
        if not netcode:  # today's client: server states only, a fixed delay (match.js)
            self.context.add_init_script("localStorage.setItem('arcade.netcode', 'off')")
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.ws_bytes = 0
        self.page.on("websocket", self._socket)
        self.totals = {"latencies": [], "pressFrames": [], "corrections": [], "freezes": 0,
                       "frozenFrames": 0,
                       "frames": 0, "ms": 0.0, "causes": {}, "log": []}  # fmt: skip

    def _socket(self, ws) -> None:
        if "/ws/matches/" in ws.url:
            ws.on("framereceived", lambda payload: self._count(payload))

    def _count(self, payload) -> None:
        self.ws_bytes += len(payload.encode() if isinstance(payload, str) else payload)

    def start(self) -> None:
        self.sign_in()
        self.quick_play()

    def sign_in(self) -> None:
        page = self.page
        page.goto("/")
        page.wait_for_function("() => window.__lobby !== undefined")
        page.fill("#nick", "Bench")
        page.click("#nick-form button[type=submit]")
        page.wait_for_function("() => window.__lobby && window.__lobby.player !== null")

    def play_with_bots(self, title: str, players: int) -> None:
        """Create a match of ``players`` seats of ``title``, the rest bots, and open its page."""
        public_id = self.page.evaluate(CREATE, {"title": title, "players": players})
        self.page.goto(f"/m/{public_id}/")
        self.page.wait_for_function(
            "() => { const g = window.__game; return g && g.role === 'player' && g.state "
            "&& g.status === 'running'; }",
            timeout=60_000,
        )

    def quick_play(self) -> None:
        self.page.click(".card[data-title=pong] button.quick")
        self.page.wait_for_url("**/m/*/", timeout=30_000)
        self.wait_in_play()

    def wait_in_play(self) -> None:
        self.page.wait_for_function(
            "() => { const g = window.__game; return g && g.role === 'player' && g.state "
            "&& !g.over && g.state.serve_in === 0; }",
            timeout=30_000,
        )
        self.page.evaluate(TAKE)  # what came before the rally is not measured

    def take(self) -> None:
        got = self.page.evaluate(TAKE)
        for name in ("latencies", "pressFrames", "corrections"):
            self.totals[name] += got[name]
        for name in ("freezes", "frozenFrames", "frames", "ms"):
            self.totals[name] += got[name]
        self.totals["log"] += got["log"]
        for cause, n in got["causes"].items():
            self.totals["causes"][cause] = self.totals["causes"].get(cause, 0) + n

    def play(self, seconds: float) -> None:
        """Press and release the paddle keys for ``seconds`` of match time."""
        page = self.page
        played = 0.0
        keys = ("ArrowDown", "ArrowUp")
        i = 0
        while played < seconds:
            started = time.monotonic()
            for _ in range(2):
                page.keyboard.down(keys[i % 2])
                time.sleep(HOLD_S)
                page.keyboard.up(keys[i % 2])
                time.sleep(REST_S)
                i += 1
            self.take()
            played += time.monotonic() - started
            if page.evaluate("() => window.__game.over !== null"):
                page.click("#again")  # back to the lobby, straight into quick play
                page.wait_for_url("**/m/*/", timeout=30_000)
                self.wait_in_play()

    def close(self) -> None:
        self.context.close()


def measure(browser: Browser, *, daphne_port: int, profile: netem.Profile, seconds: float,
            netcode: bool, seed: int = 22) -> dict:  # fmt: skip
    """One profile's figures (docs/benchmarks.md, the network section)."""
    with netem.proxy_thread(upstream=("127.0.0.1", daphne_port), profile=profile,
                            seed=seed) as proxy:  # fmt: skip
        session = Session(browser, f"http://127.0.0.1:{proxy.port}", netcode=netcode)
        try:
            session.start()
            bytes_before, started = session.ws_bytes, time.monotonic()
            session.play(seconds)
            elapsed = time.monotonic() - started
            received = session.ws_bytes - bytes_before
        finally:
            session.close()
        stalls = proxy.up.stalls + proxy.down.stalls
    t = session.totals
    pairs = zip(t["latencies"], t["pressFrames"], strict=True)
    slowest = sorted(([round(ms, 1), round(gap, 1)] for ms, gap in pairs), reverse=True)
    minutes = t["ms"] / 60_000 or float("nan")
    return {
        "own_input_p50_ms": quantile(t["latencies"], 0.5),
        "own_input_p90_ms": quantile(t["latencies"], 0.9),
        "own_input_p99_ms": quantile(t["latencies"], 0.99),
        "own_input_max_ms": quantile(t["latencies"], 1.0),
        "presses": len(t["latencies"]),
        # Presses drawn by a frame that came > 50 ms after the one before: the page was not
        # drawing (the machine), whatever the client does.
        "presses_on_late_frames": sum(gap > 50 for gap in t["pressFrames"]),
        "own_input_on_time_p99_ms": quantile(
            [ms for ms, gap in zip(t["latencies"], t["pressFrames"], strict=True) if gap <= 50],
            0.99,
        ),
        # [ms, ms since the frame before] of the 5 slowest presses: which frames were late.
        "slowest_presses": slowest[:5],
        "correction_p99_units": quantile(t["corrections"], 0.99) or 0.0,
        "corrections": len(t["corrections"]),
        "remote_freezes_per_min": round(t["freezes"] / minutes, 1),
        "freezes": t["freezes"],
        # dry: no state to draw; held: not back in time; machine: a frame > 50 ms late;
        # drawn: the timeline moved on and the title drew it unmoved (probe.js).
        "freeze_causes": dict(sorted(t["causes"].items())),
        "minutes": round(t["ms"] / 60_000, 2),
        "freeze_log": t["log"],
        "frozen_frame_share": round(t["frozenFrames"] / t["frames"], 3) if t["frames"] else None,
        "frames_per_s": round(t["frames"] / (t["ms"] / 1000), 1) if t["ms"] else None,
        "ws_bytes_per_s": round(received / elapsed),
        "stalls": stalls,
        "page_errors": session.errors,
    }


def title_bytes(browser: Browser, *, daphne_port: int, title: str, players: int,
                seconds: float) -> int:  # fmt: skip
    """Bytes per second one player's page receives on its match socket, in a match of
    ``players`` of ``title`` filled with bots, straight to Daphne (no profile: the bytes do
    not depend on it)."""
    session = Session(browser, f"http://127.0.0.1:{daphne_port}", netcode=True)
    try:
        session.sign_in()
        session.play_with_bots(title, players)
        bytes_before, started = session.ws_bytes, time.monotonic()
        while time.monotonic() - started < seconds:  # or until the match ends
            time.sleep(0.5)
            if session.page.evaluate("() => window.__game.over !== null"):
                break
        received, elapsed = session.ws_bytes - bytes_before, time.monotonic() - started
    finally:
        session.close()
    if session.errors:
        raise RuntimeError(f"page errors in {title}: {session.errors}")
    return round(received / elapsed)
