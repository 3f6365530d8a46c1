"""The soak on the real stack, kept to a minute and a few players: every match a player saw
finish has its result, ratings and replay once, the logs are clean, no socket closed on its
own. (The memory slope and the latency figures are the benchmark's, not a test's.)"""

import asyncio
import json
import math
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase, TransactionTestCase

from realtime.dev import soak
from realtime.dev.loadtest import lifecycle
from realtime.dev.loadtest.client import pct
from tests.support import stack

KEYS = ("minutes", "matches_finished", "results_missing", "results_doubled", "tracebacks",
        "memory_slope_mib_per_10min", "gap_p99_ms_max")  # fmt: skip


class SoakLiveTests(TransactionTestCase):
    def test_a_minute_of_the_lifecycle_finishes_matches_and_records_each_once(self):
        out = Path(tempfile.mkdtemp(dir=settings.VAR_DIR, prefix="test-soak-"))
        options = soak.Options(
            minutes=1.0, players=8, spectators=2, processes=1, port=stack.free_port(),
            sample_s=15.0, warmup_minutes=0.0, retention_s=20.0, out=out,
            env={"DATABASE_URL": stack.test_database_url(), **stack.redis_env()},
        )  # fmt: skip
        results = soak.Soak(options, log=lambda line: print("\n  " + line)).run()
        written = json.loads(soak.write_json(results, out / "results.json").read_text())
        soak.chart(written, out / "soak.svg")

        for key in KEYS:
            self.assertIn(key, written)
        self.assertEqual(written["minutes"], 1.0)
        self.assertGreater(written["matches_seen_finished"], 0, written["lifecycle"])
        self.assertGreaterEqual(written["matches_finished"], written["matches_seen_finished"])
        self.assertEqual(written["results_missing"], 0, written["results_missing_detail"])
        self.assertEqual(written["results_doubled"], 0, written["ratings"])
        self.assertEqual(written["results_differ_from_over"], 0)
        self.assertGreater(written["ratings"]["player_games"], 0)
        self.assertEqual(written["tracebacks"], 0, written["tracebacks_by_log"])
        self.assertEqual(written["unexpected_closes"], {})
        self.assertTrue(written["redis_keys_bounded"], written["redis_keys_unbounded"])
        self.assertEqual(set(written["memory_slope_mib_per_10min"]),
                         {"daphne", "tick-worker", "default-worker", "beat", "redis"})  # fmt: skip
        # Not before the retention has passed: Redis fills with finished matches until then.
        self.assertGreaterEqual(written["memory_warmup_minutes"], 20.0 / 60)
        self.assertTrue((out / "load-0.log").exists())  # the load's own log, scanned too
        self.assertGreaterEqual(len(written["samples"]), 4)  # 0, 15, 30, 45 and 60 s
        self.assertGreater(written["samples"][-1]["rows"]["replays"], 0)
        self.assertIsNotNone(written["samples"][-1]["load_loop_lag_p99_ms"])
        self.assertIn("<polyline", (out / "soak.svg").read_text())


class LoadLoopLagTests(SimpleTestCase):
    def test_a_load_process_blocked_for_80_ms_reports_a_loop_lag_that_long(self):
        load = lifecycle.Lifecycle(
            base_url="http://127.0.0.1:1", pairs=0, spectators=0, index=0, score_to=(1, 1),
            created_share=0.0, drop_share=0.0, replay_share=0.0,
        )  # fmt: skip

        async def blocked_once():
            probe = asyncio.create_task(load._probe_lag())
            await asyncio.sleep(0.05)
            time.sleep(0.08)  # the loop's thread busy, as with a long decode or a lobby call
            await asyncio.sleep(0.05)
            load.stop.set()
            await probe

        asyncio.run(blocked_once())
        lag = load._report()["loop_lag"]
        self.assertGreaterEqual(pct(lag, 1.0), 60.0)
        self.assertLess(pct(lag, 0.5), 20.0)
        self.assertEqual(sum(load._report()["loop_lag"]), 0)  # each report starts afresh


class SoakFigureTests(SimpleTestCase):
    def test_the_slope_is_least_squares_in_mib_per_ten_minutes(self):
        self.assertEqual(soak.slope_per_10_min([(0, 100), (1, 100.1), (2, 100.2)]), 1.0)
        self.assertEqual(soak.slope_per_10_min([(5, 50), (6, 52), (7, 50)]), 0.0)
        self.assertIsNone(soak.slope_per_10_min([(5, 50)]))

    def test_the_jitter_quantile_is_interpolated_within_its_bucket_between_two_scrapes(self):
        before = {0.1: 10, 1.0: 10, 5.0: 10, math.inf: 10}
        after = {0.1: 60, 1.0: 150, 5.0: 160, math.inf: 160}  # 150 new: 50, 90, 10, 0
        # rank 75 falls in (0.1, 1] holding ranks 50..140: 0.1 + 0.9 * 25 / 90
        self.assertEqual(soak.histogram_quantile(before, after, 0.5), 0.35)
        # rank 148.5 in (1, 5] holding 140..150: 1 + 4 * 8.5 / 10
        self.assertEqual(soak.histogram_quantile(before, after, 0.99), 4.4)
        self.assertIsNone(soak.histogram_quantile(after, after, 0.99))

    def test_tracebacks_are_found_in_every_log_with_what_raised(self):
        out = Path(tempfile.mkdtemp(dir=settings.VAR_DIR, prefix="test-soak-logs-"))
        (out / "daphne.log").write_text("ok\nTraceback (most recent call last):\n  File x\n"
                                        "ValueError: boom\nmore\n")  # fmt: skip
        (out / "beat.log").write_text("fine\n")
        self.assertEqual(soak.scan_logs(out), {"daphne.log": ["ValueError: boom"]})
