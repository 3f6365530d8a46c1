"""Redis connections black-holed, not closed (tests/support/blackhole.py between one process
and Redis): a tick worker cut off from Redis loses its matches to another worker and its late
writes are fenced off; a Daphne whose connections go half-open finds out and reconnects."""

import asyncio
import re
import time
import urllib.error
import urllib.request

from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import TransactionTestCase

from realtime import groups, redisconn, store
from tests.chaos.results import scenario
from tests.realtime.engine.test_engine_live import Listener, holder_pid, wait_resumed
from tests.support import stack
from tests.support.blackhole import Blackhole
from tests.support.live import pong_players
from tests.support.matches import counting_down


def _through(proxy: Blackhole) -> dict[str, str]:
    """A child's REDIS_URL that goes through the proxy (the broker's connection too)."""
    return {"REDIS_URL": f"redis://127.0.0.1:{proxy.port}/{redisconn.target().db}"}


class CutOffTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        t = redisconn.target()
        self.proxy = Blackhole((t.host, t.port))
        self.services: list[stack.Service] = []

    def tearDown(self):
        for service in self.services:
            service.stop()
        self.proxy.close()

    def start(self, *services: stack.Service) -> None:
        self.services.extend(services)
        stack.wait_ready(*[s for s in services if not s.name.startswith("beat")])

    @scenario("tick_worker_cut_off")
    def test_a_worker_cut_off_from_redis_loses_its_match_and_its_late_writes_are_fenced_off(self):
        cut = stack.tick_worker("ticks-cut", **_through(self.proxy))
        self.start(cut, stack.default_worker(), stack.beat())
        match = counting_down(names=("idle",), fill_with_bots=True)
        stack.wait_for(lambda: holder_pid(match.pk) == cut.pid, timeout=15,
                       what="the worker behind the proxy to run the match")  # fmt: skip
        other = stack.tick_worker("ticks-direct")
        self.start(other)
        listener = Listener(groups.group_name(match.public_id), seconds=9)
        listener.start()
        time.sleep(1.0)
        before = store.load_state(match.pk)
        self.proxy.freeze(new_too=True)
        cut_at = time.monotonic()
        resumed_s = wait_resumed(match.pk, by=other, past_tick=before["tick"], since=cut_at)
        resumed = store.load_state(match.pk)
        stack.wait_logged(cut, text="gave the match up", timeout=10)
        time.sleep(max(0.0, 4.5 - (time.monotonic() - cut_at)))  # the cut lasts 4.5 s
        self.proxy.thaw()
        time.sleep(2.0)  # what the cut-off worker held reaches Redis now
        after = store.load_state(match.pk)
        listener.join(15)
        ticks = listener.ticks
        print(f"\n  cut off: resumed after {resumed_s:.2f} s; epochs {before['epoch']} → "
              f"{resumed['epoch']} → {after['epoch']}, {len(ticks)} ticks heard")  # fmt: skip
        self.assertLess(resumed_s, 3.0)
        self.assertGreater(resumed["epoch"], before["epoch"])
        # The state is the new runner's: same epoch as at the resume, its lease, ticks going on.
        self.assertEqual(after["epoch"], resumed["epoch"])
        self.assertEqual(holder_pid(match.pk), other.pid)
        self.assertGreater(after["tick"], resumed["tick"])
        # No tick twice and none going back: nothing the stale worker sent was published.
        self.assertEqual(ticks, sorted(set(ticks)))
        self.assertGreater(ticks[-1], resumed["tick"])
        self.assertRegex(cut.log(), rf"match {match.pk}: runner \S+ gave the match up")
        return {"resume_s": round(resumed_s, 2), "cut_s": 4.5,
                "ticks_published_twice": len(ticks) - len(set(ticks)),
                "epoch_before": before["epoch"], "epoch_after": after["epoch"]}  # fmt: skip

    @scenario("daphne_redis_half_open")
    def test_a_daphne_whose_redis_connections_go_half_open_reconnects_and_counts_it(self):
        self.start(stack.tick_worker("ticks1"), stack.default_worker(), stack.beat())
        daphne = stack.daphne("daphne-cut", MATCH_COUNTDOWN_S="0.3", **_through(self.proxy))
        self.services.append(daphne)
        figures = async_to_sync(self._half_open)(daphne)
        self.assertIn("a half-open connection", daphne.log())

        def counted() -> int:
            try:
                with urllib.request.urlopen(f"{daphne.origin}/metrics", timeout=5) as response:
                    text = response.read().decode()
            except (TimeoutError, urllib.error.URLError):
                # A pooled connection still half-open fails only after REDIS_DEAD_AFTER_S:
                # on a busy machine that request may outlast ours; the next one is fresh.
                return 0
            series = r'arcade_redis_reconnects_total\{[^}]*connection="hub"[^}]*\} ([\d.]+)'
            return sum(float(n) for n in re.findall(series, text))

        figures["hub_reconnects_in_metrics"] = stack.wait_for(
            counted, timeout=20, interval=0.2, what="the hub's reconnection in /metrics"
        )
        return figures

    async def _half_open(self, daphne: stack.Service) -> dict:
        _, a, b = await pong_players(daphne.origin)
        try:
            await a.until(lambda: len(a.states) > 30, 20, "30 states")
            frozen = self.proxy.freeze()  # every connection Daphne has now; new ones flow
            cut_at, seen = time.monotonic(), len(a.states)
            detected_s = None
            while time.monotonic() - cut_at < 10 and len(a.states) <= seen + 30:
                if detected_s is None and "a half-open connection" in daphne.log():
                    detected_s = time.monotonic() - cut_at
                await asyncio.sleep(0.05)
            after = a.states[seen:]
            self.assertGreater(len(after), 30, "states flow again after the reconnection")
            gap_s = after[0][0] - cut_at
            ticks = [m["tick"] for _, m, _ in a.states]
            self.assertEqual(ticks, sorted(set(ticks)))
        finally:
            for client in (a, b):
                await client.close()
        print(f"\n  half-open: {frozen} connections frozen, detected after {detected_s} s, "
              f"states again after {gap_s:.2f} s")  # fmt: skip
        self.assertIsNotNone(detected_s)
        # Within REDIS_DEAD_AFTER_S, plus the watch's period and a busy machine's second.
        self.assertLess(detected_s, settings.REDIS_DEAD_AFTER_S + 1.5)
        self.assertLess(gap_s, 6.0)
        return {"detect_s": round(detected_s, 2), "states_again_s": round(gap_s, 2),
                "connections_frozen": frozen}  # fmt: skip
