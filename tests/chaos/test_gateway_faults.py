"""The websocket gateway under faults and abuse, on real processes: Daphne killed and
restarted under its players, hostile clients, and a client that stops reading.

Players are real sessions made through the lobby API over HTTP (tests/support/live.py).
"""

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import sys
import time
from datetime import datetime
from itertools import pairwise
from urllib.parse import urlencode, urlparse

import psutil
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import Client as DjangoClient
from django.test import TransactionTestCase
from django.urls import reverse
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from matches.models import AuditLog, Match
from realtime import store
from realtime.engine.stats import TickStats, percentile
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.live import Browser, Client

DAPHNE_ENV = {
    "MATCH_COUNTDOWN_S": "0.3",
    "GATEWAY_PING_INTERVAL_S": "0.5",
    "GATEWAY_SLOW_CLIENT_S": "2",
}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


def gaps_ms(client: Client, since: float, until: float) -> list[float]:
    arrivals = [at for at, _, _ in client.states if since <= at <= until]
    return [(b - a) * 1000 for a, b in pairwise(arrivals)]


def sockets_of(match_id: int) -> dict[int, str]:
    raw = store.client().hgetall(store.key(match_id, "sockets"))
    return {int(k): v.decode() for k, v in raw.items()}


def verdict(before_during: list[tuple[float, float]], bar: float) -> str:
    """A bar judged over attempts, each a (baseline, under fault) figure: "met" if an attempt
    with a baseline within the bar stayed within it under the fault, "breached" if every such
    attempt went over it, "inconclusive" if the machine was never quiet enough to tell."""
    judged = [during for before, during in before_during if before <= bar]
    if not judged:
        return "inconclusive"
    return "met" if min(judged) <= bar else "breached"


def jitter_verdict(attempts: list[dict]) -> str:
    # Judged on the attempts with the machine quiet before the attack and again after it: other
    # work loading both cores for those seconds cannot be told from the attack's own effect.
    quiet_after = [a for a in attempts if a["other_match_jitter_p99_after_ms"] <= JITTER_BAR_MS]
    return verdict([(a["other_match_jitter_p99_before_ms"], a["other_match_jitter_p99_during_ms"])
                    for a in quiet_after], JITTER_BAR_MS)  # fmt: skip


def gap_verdict(attempts: list[dict]) -> str:
    return verdict([(a["other_client_gap_p99_before_ms"], a["other_client_gap_p99_ms"])
                    for a in attempts], GAP_BAR_MS)  # fmt: skip


def tick_stats(match_id: int) -> TickStats:
    return TickStats.from_json(store.client().hget(store.key(match_id, "stats"), "json"))


def window(before: TickStats, after: TickStats) -> TickStats:
    """What a match's runner recorded between two reads of its stats."""
    diff = TickStats(ticks=after.ticks - before.ticks, overruns=after.overruns - before.overruns)
    diff.jitter_hist = [a - b for a, b in zip(after.jitter_hist, before.jitter_hist, strict=True)]
    return diff


def ws_url(origin: str, public_id: str) -> str:
    return f"ws://{origin.removeprefix('http://')}/ws/matches/{public_id}/"


# --- abuse: what each hostile frame gets (docs/protocol.md, error and close codes) ---------

JITTER_BAR_MS = 5.0
JITTER_ATTEMPTS = 3
WINDOWS = ("before", "during", "after")
HANG_UPS = 50
GAP_BAR_MS = 50.0  # slow_reader: the other client's update gaps, p99
GAP_ATTEMPTS = 5
PING = '{"type":"ping","t":1}'
INPUT = '{"type":"input","v":1,"seq":%s,"input":%s}'
SPECTATOR_FRAMES: dict[str, str | bytes] = {
    "malformed_json": '{"type": "ping", "t": ',
    "nan": '{"type":"ping","t":NaN}',
    "infinity": '{"type":"ping","t":-Infinity}',
    "nested_2000_deep": "[" * 2000 + "]" * 2000,
    "not_an_object": "[1, 2]",
    "no_type": '{"t": 1}',
    "unknown_type": '{"type":"teleport"}',
    "huge_type_string": json.dumps({"type": "x" * 4000}),
    "multibyte_over_4_kib": json.dumps({"type": "ping", "pad": "é" * 2100}, ensure_ascii=False),
    "bad_version": '{"type":"ping","v":2,"t":1}',
    "binary_frame": b"\x00\x01\x02",
    "spectator_input": INPUT % (1, '{"dir":1}'),
    "spectator_leave": '{"type":"leave"}',
    "unexpected_pong": '{"type":"pong","id":999999}',
}
# Over Daphne's cap (twice the application's 4 KiB): each on a socket of its own.
OVER_DAPHNE_CAP = {
    "huge_string_500_kib": json.dumps({"type": "ping", "t": 1, "pad": "x" * 500_000}),
    "frame_2_mib": "x" * (2 * 1024 * 1024),
}
PLAYER_FRAMES = {
    "invalid_enum": INPUT % (1, '{"dir":9}'),
    "enum_of_wrong_type": INPUT % (2, '{"dir":"up"}'),
    "nan_in_input": INPUT % (3, '{"dir":NaN}'),
    "slot_field": '{"type":"input","seq":4,"input":{"dir":1},"slot":1}',
    "slot_inside_input": INPUT % (5, '{"dir":1,"slot":1}'),
    "seq_out_of_range": INPUT % (2**60, '{"dir":1}'),
    "huge_string_in_input": INPUT % (6, json.dumps({"dir": "A" * 3900})),
}
EXPECTED_CODES = {
    "malformed_json": "bad_json",
    "nan": "bad_json",
    "infinity": "bad_json",
    "nested_2000_deep": "bad_json",
    "not_an_object": "bad_message",
    "no_type": "bad_message",
    "unknown_type": "unknown_type",
    "huge_type_string": "unknown_type",
    "multibyte_over_4_kib": "too_large",
    "bad_version": "bad_version",
    "binary_frame": "binary_unsupported",
    "spectator_input": "not_a_player",
    "spectator_leave": "not_a_player",
    "unexpected_pong": "unexpected_pong",
    "spectator_open_after_errors": True,
    "forged_session_role": ("spectator", None),
    "forged_session_input": "not_a_player",
    "invalid_enum": "bad_input",
    "enum_of_wrong_type": "bad_input",
    "nan_in_input": "bad_json",
    "slot_field": "bad_message",
    "slot_inside_input": "bad_input",
    "seq_out_of_range": "bad_message",
    "huge_string_in_input": "bad_input",
    "other_slot_never_moved": True,
    "cross_site_origin": "HTTP 403",
    "missing_origin": "HTTP 403",
    # autobahn fails a frame over Daphne's cap by dropping the TCP connection (failByDrop):
    # the client sees no close frame, hence 1006.
    "huge_string_500_kib": "close 1006",
    "frame_2_mib": "close 1006",
    "flood_server_close_codes": ["4429"],
    "flood_every_cut_socket_closed_4429_by_server": True,
    "flood_errors": ["rate_limited"],
}
EXPECTED_AFTER = {"hang_up_with_replies_owed": "seen as away", "daphne_tracebacks": 0}
EXPECTED_ADMIN = {
    "admin_index_guest": "302 /admin/login/",
    "admin_list_guest": "302 /admin/login/",
    "admin_live_guest": "302 /admin/login/",
    "admin_list_non_staff": "302 /admin/login/",
    "admin_live_non_staff": "302 /admin/login/",
    "admin_kick_non_staff": "302 /admin/login/",
    "admin_kick_without_csrf": "403",
}


class Probe:
    """A raw socket for hostile frames: sends one, reads up to the answer it expects."""

    def __init__(self, ws: ClientConnection, welcome: dict) -> None:
        self.ws, self.welcome = ws, welcome

    @classmethod
    async def open(cls, origin: str, public_id: str, *, cookie: str = "") -> "Probe":
        headers = {"Origin": origin, **({"Cookie": cookie} if cookie else {})}
        ws = await connect(ws_url(origin, public_id), additional_headers=headers,
                           ping_interval=None)  # fmt: skip
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        return cls(ws, welcome)

    async def ask(self, frame: str | bytes, want: str = "error") -> object:
        """The error code (or True for a wanted pong), or "close <code>" if the socket closed."""
        try:
            await self.ws.send(frame)
            while True:
                message = json.loads(await asyncio.wait_for(self.ws.recv(), 5))
                kind = message["type"]
                if kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong", "id": message["id"]}))
                elif kind == want == "error":
                    return message["code"]
                elif kind == want == "pong":
                    return True
        except ConnectionClosed:
            return f"close {self.ws.close_code}"


async def flood_process(origin: str, public_id: str, *, total: int, rate: float,
                        budget_s: float) -> dict:  # fmt: skip
    """tests/chaos/flood.py in a process of its own at nice 19: not on this event loop (it would
    starve the clients that measure), nor ahead of the server for the CPU."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.chaos.flood", origin, public_id, str(total), str(rate),
        str(budget_s), cwd=stack.ROOT, stdout=asyncio.subprocess.PIPE,
        preexec_fn=lambda: os.nice(19),
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), budget_s + 20)
    assert proc.returncode == 0, proc.returncode
    return json.loads(out)


def closes_logged(log: str, code: str) -> list[str]:
    """The close codes of the gateway's log lines "ws <channel>: <code> (...), closing <n>"."""
    return [line.rsplit(" ", 1)[1] for line in log.splitlines()
            if f": {code} (" in line and ", closing " in line]  # fmt: skip


def http_get(daphne: stack.Service, path: str, cookie: str, *, post: dict | None = None,
             token: str | None = None) -> str:  # fmt: skip
    """A request as a browser sends it; "<status> <redirect path>" or "<status>"."""
    conn = http.client.HTTPConnection("127.0.0.1", daphne.port, timeout=10)
    headers = {"Cookie": cookie, "Origin": daphne.origin}
    body = None
    if post is not None:
        body = urlencode(post)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["X-CSRFToken"] = token
    try:
        conn.request("POST" if post is not None else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        location = response.headers.get("Location")
        return f"{response.status} {urlparse(location).path}" if location else str(response.status)
    finally:
        conn.close()


class GatewayFaultTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stack.flush_redis()
        workers = [stack.tick_worker("ticks-gf"), stack.default_worker("default-gf")]
        cls.services = [*workers, stack.beat("beat-gf")]
        stack.wait_ready(*workers)

    @classmethod
    def tearDownClass(cls):
        for service in cls.services:
            service.stop()
        super().tearDownClass()

    def setUp(self):
        self.daphnes: list[stack.Service] = []

    def tearDown(self):
        for service in self.daphnes:
            service.stop()

    def start_daphne(self, name: str, **kwargs) -> stack.Service:
        service = stack.daphne(name, **{**DAPHNE_ENV, **kwargs})
        self.daphnes.append(service)
        return service

    def players(self, origin: str, *names: str) -> list[Browser]:
        browsers = []
        for name in names:
            browser = Browser(origin)
            browser.post("/api/me", {"display_name": name})
            browsers.append(browser)
        return browsers

    def pong(self, host: Browser, guest: Browser) -> tuple[str, int]:
        """A two-player Pong match made through the lobby API: its public id and pk."""
        # First to 21: with idle paddles a match to 11 can end within a slow run's minute.
        public_id = host.post("/api/matches", {"title": "pong", "settings": {"score_to": 21}})[
            "match"
        ]["id"]
        guest.post(f"/api/matches/{public_id}/join")
        return public_id, Match.objects.get(public_id=public_id).pk

    # --- 1. Daphne killed and restarted on the same port -----------------------------------

    @scenario("daphne_restart")
    def test_players_reconnect_to_a_restarted_daphne_and_keep_their_slots(self):
        return async_to_sync(self._daphne_restart)()

    async def _daphne_restart(self) -> dict:
        first = await asyncio.to_thread(self.start_daphne, "daphne-gf-1")
        origin = first.origin
        ann, bob = await asyncio.to_thread(self.players, origin, "ann", "bob")
        public_id, match_id = await asyncio.to_thread(self.pong, ann, bob)
        clients = [
            (await Client.open(origin, public_id, cookie=b.cookie_header)).start()
            for b in (ann, bob)
        ]
        slots = [c.welcome["slot"] for c in clients]
        self.assertEqual([c.welcome["role"] for c in clients], ["player", "player"])
        for client in clients:
            await client.until(lambda c=client: len(c.states) > 10, 15, "the match running")
        old_sockets = sockets_of(match_id)
        self.assertEqual(sorted(old_sockets), [0, 1])
        before = store.load_state(match_id)

        first.signal(signal.SIGKILL)
        killed_at = time.monotonic()
        for client in clients:
            await asyncio.wait_for(client.task, 5)
        drop_codes = [int(c.ws.close_code or 0) for c in clients]
        # Nobody ran the dead process's disconnect handlers: its channels stay in the sockets
        # hash and the runner never hears that the players went away.
        await asyncio.sleep(1.0)
        during = store.load_state(match_id)
        stale_sockets = sockets_of(match_id) == old_sockets

        async def back(browser: Browser) -> tuple[Client, float, float]:
            while True:
                try:
                    client = (await Client.open(origin, public_id,
                                                cookie=browser.cookie_header)).start()  # fmt: skip
                    break
                except (OSError, InvalidHandshake, ConnectionClosed):
                    await asyncio.sleep(0.1)  # a browser's reconnect backoff, at its floor
            await client.until(lambda: client.states, 10, "the snapshot")
            snapshot_at = time.monotonic()
            first_tick = client.states[0][1]["tick"]
            await client.until(lambda: client.last()["tick"] > first_tick, 10, "a live state")
            return client, snapshot_at, time.monotonic()

        returning = [asyncio.ensure_future(back(b)) for b in (ann, bob)]
        second = await asyncio.to_thread(self.start_daphne, "daphne-gf-2", port=first.port)
        up_at = time.monotonic()
        at_up = store.load_state(match_id)
        results = await asyncio.wait_for(asyncio.gather(*returning), 20)
        clients = [client for client, _, _ in results]
        flowing_at = max(at for _, _, at in results)
        self.assertEqual([c.welcome["role"] for c in clients], ["player", "player"])
        self.assertEqual([c.welcome["slot"] for c in clients], slots)
        for client in clients:
            n = len(client.states)
            await client.until(lambda c=client, n=n: len(c.states) >= n + 10, 5, "states")
        new_sockets = sockets_of(match_id)
        self.assertEqual(sorted(new_sockets), [0, 1])
        self.assertTrue(all(new_sockets[s] != old_sockets[s] for s in (0, 1)))
        after_reconnect = store.load_state(match_id)

        # Presence works again on the new process: a player who leaves pauses Pong, and
        # coming back resumes it.
        ann_client, bob_client = clients
        await ann_client.close()
        await bob_client.until(lambda: bob_client.last().get("paused") == [0], 5, "a pause")
        paused_at = bob_client.last()["tick"]
        ann_client = (await Client.open(origin, public_id, cookie=ann.cookie_header)).start()
        await bob_client.until(
            lambda: bob_client.last()["tick"] > paused_at + 5
            and "paused" not in bob_client.last(), 5, "the match resumed",
        )  # fmt: skip
        for client in (ann_client, bob_client):
            await client.close()
        log = second.log()
        self.assertNotIn("Traceback", log)

        figures = {
            "states_again_after_daphne_up_s": round(flowing_at - up_at, 2),
            "outage_s": round(flowing_at - killed_at, 2),
            "close_code_seen_by_clients": drop_codes,
            "stale_sockets_entries_kept_while_down": stale_sockets,
            "paused_while_daphne_down": bool(during["absent"]),
            "ticks_played_while_daphne_down": at_up["tick"] - before["tick"],
            "scores_before_kill": before["state"]["scores"],
            "scores_after_reconnect": after_reconnect["state"]["scores"],
            "pause_and_resume_after_restart": True,
        }
        print(f"\n  daphne_restart: {figures}")
        return figures

    # --- 2. abuse ------------------------------------------------------------------------------

    @scenario("abuse")
    def test_hostile_clients_get_their_codes_and_do_not_disturb_another_match(self):
        daphne = self.start_daphne("daphne-gf-abuse")
        ann, bob, cy, di = self.players(daphne.origin, "ann", "bob", "cy", "di")
        match_a, _ = self.pong(ann, bob)
        match_b, b_id = self.pong(cy, di)
        non_staff = User.objects.create_user("joe", password="pw-123-xyz")
        django_client = DjangoClient()
        django_client.force_login(non_staff)
        joe_cookie = f"sessionid={django_client.cookies['sessionid'].value}"
        figures = async_to_sync(self._abuse)(daphne, (ann, bob, cy, di), match_a, match_b, b_id)
        figures["codes"].update(self._admin_as_non_staff(daphne, ann, joe_cookie, b_id))
        expected = {**EXPECTED_CODES, **EXPECTED_AFTER, **EXPECTED_ADMIN}
        print(f"\n  abuse: {figures}")
        self.assertEqual(figures["codes"], expected)
        self.assertLess(figures["daphne_rss_growth_mib"], 50)
        self.assertNotEqual(figures["jitter_verdict"], "breached", figures)
        return figures

    async def _abuse(self, daphne, browsers, match_a, match_b, b_id) -> dict:
        origin = daphne.origin
        ann, bob, cy, di = browsers
        ann_c, bob_c, cy_c, di_c = [
            (await Client.open(origin, public_id, cookie=b.cookie_header)).start()
            for b, public_id in ((ann, match_a), (bob, match_a), (cy, match_b), (di, match_b))
        ]
        for client in (ann_c, cy_c):
            await client.until(lambda c=client: len(c.states) > 10, 15, "the matches running")
        daphne_proc = psutil.Process(daphne.pid)
        rss_before = daphne_proc.memory_info().rss
        # Other work on a shared test machine can make the other match's ticks late by itself
        # (browser tests, benchmarks). The attack's own effect is systematic, so it shows in
        # every attempt; each attempt is reported, and the bar is judged on the attempts whose
        # baseline (just before the attack) was within it: a machine already too busy for the
        # bar without any attack cannot tell whether the attack disturbed the match.
        attempts = []
        for _ in range(JITTER_ATTEMPTS):
            attempts.append(await self._attack(daphne, match_a, b_id, ann_c, cy_c))
            if jitter_verdict(attempts) == "met":
                break
        rss_after = daphne_proc.memory_info().rss
        for client in (ann_c, bob_c, cy_c, di_c):
            self.assertIsNone(client.ws.close_code)
        # A player who hangs up with replies still owed (pings, then close at once), again and
        # again: now and then the server's reply meets a socket already closing, which used to
        # end the consumer with a traceback and without its disconnect (the player was never
        # seen as gone). The last hang-up must leave Pong paused for bob.
        await bob_c.close()
        for _ in range(HANG_UPS):
            ws = await connect(ws_url(origin, match_a), ping_interval=None, additional_headers={
                "Origin": origin, "Cookie": bob.cookie_header})  # fmt: skip
            await ws.recv()
            for t in range(110):
                await ws.send(json.dumps({"type": "ping", "t": t}))
            await ws.close()
        try:
            await ann_c.until(lambda: ann_c.last().get("paused") == [1], 5, "a pause for bob")
            codes_after = {"hang_up_with_replies_owed": "seen as away"}
        except AssertionError:
            codes_after = {"hang_up_with_replies_owed": "never seen as away"}
        await asyncio.sleep(1.1)  # Daphne reports a crashed consumer within a second
        codes_after["daphne_tracebacks"] = daphne.log().count("Traceback")
        for client in (ann_c, cy_c, di_c):
            await client.close()
        for attempt in attempts[:-1]:
            self.assertEqual(attempt["codes"], EXPECTED_CODES)
        mib = 1024 * 1024
        attempts[-1]["codes"].update(codes_after)
        return {
            **attempts[-1],
            "attempts": len(attempts),
            "jitter_bar_ms": JITTER_BAR_MS,
            "jitter_verdict": jitter_verdict(attempts),
            "other_match_jitter_p99_ms_per_attempt_before_during_after": [
                tuple(a[f"other_match_jitter_p99_{when}_ms"] for when in WINDOWS) for a in attempts
            ],
            "load_average_1min": round(os.getloadavg()[0], 2),
            "daphne_rss_before_mib": round(rss_before / mib, 1),
            "daphne_rss_after_mib": round(rss_after / mib, 1),
            "daphne_rss_growth_mib": round((rss_after - rss_before) / mib, 1),
        }

    async def _attack(self, daphne: stack.Service, match_a: str, b_id: int, ann_c: Client,
                      cy_c: Client) -> dict:  # fmt: skip
        """Every hostile case once, with the other match's figures before and during."""
        origin = daphne.origin
        # Start from a quiet moment: wait a while for a window within the bar.
        stats_1, t1 = tick_stats(b_id), time.monotonic()
        for baseline_windows in range(1, 5):  # noqa: B007 - reported
            stats_0, t0 = stats_1, t1
            await asyncio.sleep(2.0)
            stats_1, t1 = tick_stats(b_id), time.monotonic()
            if percentile(window(stats_0, stats_1).jitter_hist, 0.99) <= JITTER_BAR_MS:
                break

        codes: dict[str, object] = {}
        # A spectator's socket: every malformed frame gets its error, the socket stays open.
        spectator = await Probe.open(origin, match_a)
        for case, frame in SPECTATOR_FRAMES.items():
            codes[case] = await spectator.ask(frame)
        codes["spectator_open_after_errors"] = await spectator.ask(PING, want="pong")
        await spectator.ws.close()
        # A made-up session id is nobody: a spectator, who cannot play.
        forged = await Probe.open(origin, match_a, cookie="sessionid=" + "f0rg3d" * 6)
        codes["forged_session_role"] = forged.welcome["role"], forged.welcome["slot"]
        codes["forged_session_input"] = await forged.ask(INPUT % ("1", '{"dir":1}'))
        await forged.ws.close()
        # The player's own socket: nothing in a message can name another slot.
        for case, frame in PLAYER_FRAMES.items():
            before = len(ann_c.errors)
            await ann_c.ws.send(frame)
            await ann_c.until(lambda n=before: len(ann_c.errors) > n, 5, f"an error for {case}")
            codes[case] = ann_c.errors[before]["code"]
        await asyncio.sleep(0.2)
        codes["other_slot_never_moved"] = all(
            m["state"]["paddles"][1]["dir"] == 0 for _, m, _ in ann_c.states
        )
        # Handshakes without an allowed Origin are refused before any socket exists.
        for case, headers in (("cross_site_origin", {"Origin": "http://evil.example"}),
                              ("missing_origin", {})):  # fmt: skip
            try:
                ws = await connect(ws_url(origin, match_a), additional_headers=headers,
                                   ping_interval=None)  # fmt: skip
                codes[case] = "accepted"
                await ws.close()
            except InvalidStatus as exc:
                codes[case] = f"HTTP {exc.response.status_code}"
        # A frame over Daphne's own cap never reaches the application.
        for case, frame in OVER_DAPHNE_CAP.items():
            big = await Probe.open(origin, match_a)
            codes[case] = await big.ask(frame, want="closed")
        flood_start = time.monotonic()
        server_closes = len(closes_logged(daphne.log(), "rate_limited"))
        flood = await flood_process(origin, match_a, total=20_000, rate=10_000, budget_s=8)
        cut = sum(flood["close_codes"].values())
        # What the server did: each socket it cut off got rate_limited and 4429 (the client may
        # see 1006 instead when the server's reset, after the close, beats the close frame).
        server_closes = closes_logged(daphne.log(), "rate_limited")[server_closes:]
        codes["flood_server_close_codes"] = sorted(set(server_closes))
        # (The last socket may have been cut by the server just as the budget ran out.)
        codes["flood_every_cut_socket_closed_4429_by_server"] = len(server_closes) >= cut
        codes["flood_errors"] = flood["errors"]
        attack_end = time.monotonic()

        await asyncio.sleep(1.3)  # the runner flushes its stats about once a second
        stats_2 = tick_stats(b_id)
        await asyncio.sleep(2.0)
        stats_3 = tick_stats(b_id)
        before, during = window(stats_0, stats_1), window(stats_1, stats_2)
        after = window(stats_2, stats_3)
        return {
            "codes": codes,
            "flood_messages_sent": flood["sent"],
            "flood_connections": flood["connections"],
            "flood_close_codes_seen_by_client": flood["close_codes"],
            "flood_seconds": flood["seconds"],
            "flood_frames_answered_per_connection_max": flood["answered_max"],
            "attack_seconds": round(attack_end - t1, 2),
            "baseline_windows_tried": baseline_windows,
            "other_match_ticks_before": before.ticks,
            "other_match_ticks_during": during.ticks,
            "other_match_jitter_p99_before_ms": percentile(before.jitter_hist, 0.99),
            "other_match_jitter_p99_during_ms": percentile(during.jitter_hist, 0.99),
            "other_match_jitter_p99_after_ms": percentile(after.jitter_hist, 0.99),
            "other_match_overruns_during": during.overruns,
            "other_match_client_gap_p99_before_ms": round(p99(gaps_ms(cy_c, t0, t1)), 1),
            "other_match_client_gap_p99_during_ms": round(p99(gaps_ms(cy_c, t1, attack_end)), 1),
            "other_match_client_gap_p99_during_flood_ms": round(
                p99(gaps_ms(cy_c, flood_start, attack_end)), 1
            ),
            "other_match_client_gap_max_during_ms": round(
                max(gaps_ms(cy_c, t1, attack_end), default=0), 1
            ),
        }

    def _admin_as_non_staff(self, daphne, guest: Browser, joe_cookie: str, b_id: int) -> dict:
        changelist = reverse("admin:matches_match_changelist")
        live = reverse("admin:matches_match_live", args=[b_id])
        kick = reverse("admin:matches_match_kick", args=[b_id])
        guest.request("GET", "/api/csrf")
        token = guest.cookies["csrftoken"]
        joe = f"{joe_cookie}; csrftoken={token}"
        codes = {
            "admin_index_guest": http_get(daphne, "/admin/", guest.cookie_header),
            "admin_list_guest": http_get(daphne, changelist, guest.cookie_header),
            "admin_live_guest": http_get(daphne, live, guest.cookie_header),
            "admin_list_non_staff": http_get(daphne, changelist, joe),
            "admin_live_non_staff": http_get(daphne, live, joe),
            "admin_kick_non_staff": http_get(daphne, kick, joe, post={"slot": "0"}, token=token),
            "admin_kick_without_csrf": http_get(daphne, kick, joe, post={"slot": "0"}),
        }
        # Nobody was kicked (on a slow run the match may have reached 21 meanwhile).
        seat = Match.objects.get(pk=b_id).participations.get(slot=0)
        self.assertIsNone(seat.left_at)
        self.assertFalse(
            AuditLog.objects.filter(match_id=b_id, action=AuditLog.Action.KICK).exists()
        )
        return codes

    # --- 3. a client that stops reading --------------------------------------------------------

    @scenario("slow_reader")
    def test_a_client_that_stops_reading_is_dropped_4408_without_slowing_the_other(self):
        daphne = self.start_daphne("daphne-gf-slow")
        ann, bob = self.players(daphne.origin, "ann", "bob")
        public_id, match_id = self.pong(ann, bob)
        figures = async_to_sync(self._slow_reader)(daphne, ann, bob, public_id, match_id)
        print(f"\n  slow_reader: {figures}")
        self.assertNotEqual(figures["gap_verdict"], "breached", figures)
        return figures

    async def _slow_reader(self, daphne, ann, bob, public_id: str, match_id: int) -> dict:
        ann_c = (await Client.open(daphne.origin, public_id, cookie=ann.cookie_header)).start()
        await ann_c.until(lambda: len(ann_c.states) > 60, 15, "two seconds of the match")
        # As in the abuse scenario, outside load on a shared machine can delay ann by itself;
        # a slow reader that held her up would do it every time.
        attempts = []
        for _ in range(GAP_ATTEMPTS):
            attempts.append(await self._one_slow_reader(daphne, bob, public_id, ann_c, attempts))
            if gap_verdict(attempts) == "met":
                break
        for attempt in attempts:
            # The server closes 4408 after too_slow; the client sees that if it reads again
            # within autobahn's close handshake timeout (1 s), else the connection is aborted
            # under it (1006), as for a client that stays stuck.
            self.assertEqual(attempt["server_closed_with"], "4408")
            self.assertIn(
                (attempt["close_code_seen_by_client"], attempt["last_error_seen_by_client"]),
                ((4408, "too_slow"), (1006, None)),
            )
        # The drop is a presence change like any other: Pong pauses for bob, and he comes back
        # to the same slot.
        await ann_c.until(lambda: ann_c.last().get("paused") == [1], 5, "a pause for bob")
        bob_c = (await Client.open(daphne.origin, public_id, cookie=bob.cookie_header)).start()
        self.assertEqual(bob_c.welcome["slot"], 1)
        paused_at = ann_c.last()["tick"]
        await ann_c.until(lambda: ann_c.last()["tick"] > paused_at + 5
                          and "paused" not in ann_c.last(), 5, "the match resumed")  # fmt: skip
        for client in (ann_c, bob_c):
            await client.close()
        return {
            **attempts[-1],
            "attempts": len(attempts),
            "gap_bar_ms": GAP_BAR_MS,
            "gap_verdict": gap_verdict(attempts),
            "other_client_gap_p99_ms_per_attempt_before_during": [
                (a["other_client_gap_p99_before_ms"], a["other_client_gap_p99_ms"])
                for a in attempts
            ],
            "load_average_1min": round(os.getloadavg()[0], 2),
            "paused_then_resumed_on_reconnect": True,
        }

    async def _one_slow_reader(self, daphne, bob, public_id: str, ann_c: Client,
                               earlier: list) -> dict:  # fmt: skip
        slow_after = float(DAPHNE_ENV["GATEWAY_SLOW_CLIENT_S"])
        # Bob's browser hangs: a receive buffer of a few KiB, and nothing reads it after the
        # welcome (the client library stops reading the socket once one message is queued).
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", daphne.port))
        raw.setblocking(False)
        slow = await connect(ws_url(daphne.origin, public_id), sock=raw, max_queue=1,
                             additional_headers={"Origin": daphne.origin,
                                                 "Cookie": bob.cookie_header},
                             ping_interval=None)  # fmt: skip
        welcome = json.loads(await slow.recv())
        stopped_reading, stopped_wall = time.monotonic(), time.time()
        self.assertEqual((welcome["role"], welcome["slot"]), ("player", 1))

        def dropped() -> tuple[float, str] | None:
            """When the gateway logged this socket's drop ("ws …: too_slow (…), closing N")."""
            drops = [line for line in daphne.log().splitlines()
                     if ": too_slow (" in line and ", closing " in line]  # fmt: skip
            if len(drops) <= len(earlier):
                return None
            line = drops[len(earlier)]
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp(), line.rsplit(" ", 1)[1]

        while (drop := dropped()) is None:
            if time.monotonic() - stopped_reading > slow_after + 10:
                raise AssertionError("the slow client was never dropped")
            await asyncio.sleep(0.02)
        seen_drop = time.monotonic()
        # Read again: what was still queued for it, then the error and the close.
        backlog = []
        with contextlib.suppress(ConnectionClosed):
            while True:
                backlog.append(json.loads(await asyncio.wait_for(slow.recv(), 5)))
        errors = [m["code"] for m in backlog if m["type"] == "error"]
        gaps = gaps_ms(ann_c, stopped_reading, seen_drop)
        return {
            "slow_client_s": slow_after,
            "dropped_after_s": round(drop[0] - stopped_wall, 2),
            "server_closed_with": drop[1],
            "close_code_seen_by_client": int(slow.close_code or 0),
            "last_error_seen_by_client": errors[-1] if errors else None,
            "backlog_states_unread_at_drop": sum(m["type"] == "state" for m in backlog),
            "backlog_kib_unread_at_drop": round(sum(len(json.dumps(m)) for m in backlog) / 1024, 1),
            "other_client_states_meanwhile": len(gaps) + 1,
            "other_client_gap_p99_before_ms": round(
                p99(gaps_ms(ann_c, stopped_reading - 2.0, stopped_reading)), 1
            ),
            "other_client_gap_p99_ms": round(p99(gaps), 1),
            "other_client_gap_max_ms": round(max(gaps, default=0), 1),
        }
