"""The Prometheus endpoint: figures summed from the database, Redis counters and the running
matches' stats, as a real tick worker produces them."""

import json
import socket

from django.test import TestCase, TransactionTestCase
from prometheus_client.parser import text_string_to_metric_families

from matches import services
from matches.models import Match
from realtime import store
from realtime.engine import heartbeat, supervisor
from realtime.engine.stats import BUCKETS
from realtime.ops.metrics import _histogram
from tests.support import stack
from tests.support.matches import counting_down


def scrape(client) -> dict[tuple, float]:
    """{(sample name, sorted label pairs): value} of one /metrics response."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


class HistogramTests(TestCase):
    def test_buckets_are_cumulative_seconds_from_the_0_1_ms_buckets(self):
        hist = [0] * BUCKETS
        hist[0] = 1  # 0.05 ms: under 0.1 ms
        hist[1] = 2  # 0.15 ms: under 0.2 ms
        hist[7] = 3  # 0.75 ms: under 1 ms
        hist[300] = 4  # 30 ms: under 50 ms
        hist[BUCKETS - 1] = 5  # 100 ms and more: only +Inf
        buckets, total = _histogram(hist, 1000.0)
        self.assertEqual(
            buckets,
            [("0.0001", 1), ("0.0002", 3), ("0.0005", 3), ("0.001", 6), ("0.002", 6),
             ("0.005", 6), ("0.01", 6), ("0.02", 6), ("0.05", 10), ("+Inf", 15)],
        )  # fmt: skip
        self.assertEqual(total, 1.0)
        _, estimated = _histogram(hist, None)
        midpoints_ms = 0.05 + 2 * 0.15 + 3 * 0.75 + 4 * 30.05 + 5 * 99.95
        self.assertAlmostEqual(estimated, midpoints_ms / 1000)


class MetricsWithoutWorkerTests(TestCase):
    def setUp(self):
        stack.flush_redis()

    def test_matches_are_counted_by_status_including_the_empty_ones(self):
        services.match_create(title="pong")
        services.match_create(title="snake")
        aborted = services.match_create(title="pong")
        services.match_abort(match_id=aborted.pk, reason="test")
        samples = scrape(self.client)
        by_status = {dict(labels)["status"]: value for (name, labels), value in samples.items()
                     if name == "arcade_matches"}  # fmt: skip
        self.assertEqual(by_status, {"waiting": 2, "countdown": 0, "running": 0, "finished": 0,
                                     "aborted": 1})  # fmt: skip

    def test_counters_from_every_process_add_up_by_label(self):
        # As two Daphnes and a tick worker add theirs.
        r = store.client()
        r.hincrby(store.COUNTERS, store.REFUSED + "rate_limited", 1)
        r.hincrby(store.COUNTERS, store.REFUSED + "rate_limited", 2)
        r.hincrby(store.COUNTERS, store.REFUSED + "server_busy", 1)
        samples = scrape(self.client)
        self.assertEqual(samples[("arcade_inputs_refused_total", (("reason", "rate_limited"),))], 3)
        self.assertEqual(samples[("arcade_inputs_refused_total", (("reason", "server_busy"),))], 1)
        self.assertEqual(samples[("arcade_ticks_total", ())], 0)
        self.assertEqual(samples[("arcade_tick_workers", ())], 0)

    def test_a_probe_needs_no_allowed_host_and_no_session(self):
        response = self.client.get("/metrics", HTTP_HOST="10.0.0.9:8000")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Set-Cookie", response.headers)


class MetricsLiveTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.worker = stack.tick_worker("ticks1")
        self.addCleanup(self.worker.stop)
        stack.wait_ready(self.worker)

    def test_a_running_match_shows_in_ticks_sockets_histograms_and_refusals(self):
        match = counting_down()  # two humans, Pong, 30 Hz
        supervisor.begin(match.pk)
        r = store.client()
        # What the gateway records: ann's socket and a spectator's RTT (realtime.gateway.seats).
        r.hset(store.key(match.pk, "sockets"), "0", "specific.ann")
        r.hset(store.key(match.pk, "rtt"), mapping={"0": 12, "spectator:abc": 30})
        # Two rows the runner must drop: a wrong input and a slot out of range.
        for item in ({"slot": 0, "tick": 0, "input": {"dir": 9}},
                     {"slot": 5, "tick": 0, "input": {"dir": 1}}):  # fmt: skip
            r.rpush(store.key(match.pk, "inputs"), json.dumps(item))
        stack.wait_for(lambda: store.load_stats(match.pk).get("ticks", 0) >= 90, timeout=10,
                       what="three stats flushes")  # fmt: skip
        samples = scrape(self.client)
        stats = store.load_stats(match.pk)

        self.assertEqual(samples[("arcade_matches", (("status", "running"),))], 1)
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "player"),))], 1)
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "spectator"),))], 1)
        # Measured between two stats flushes: a starved worker on a loaded shared machine drifts
        # well off 30 (20-33 seen), so this checks the series is a per-second rate, not 30 Hz.
        self.assertGreater(samples[("arcade_ticks_per_second", ())], 10)
        self.assertLess(samples[("arcade_ticks_per_second", ())], 45)
        self.assertEqual(samples[("arcade_tick_workers", ())], 1)
        self.assertEqual(heartbeat.alive(), [f"ticks1@{socket.gethostname()}"])
        # Counters are added at each flush; the stats hash is flushed with them.
        ticks_total = samples[("arcade_ticks_total", ())]
        self.assertGreaterEqual(ticks_total, 90)
        self.assertLessEqual(ticks_total, stats["ticks"] + 30)
        self.assertEqual(samples[("arcade_broadcasts_total", (("kind", "state"),))], ticks_total)
        self.assertEqual(samples[("arcade_inputs_refused_total", (("reason", "bad_input"),))], 1)
        self.assertEqual(samples[("arcade_inputs_refused_total", (("reason", "malformed"),))], 1)
        for name in ("arcade_tick_duration_seconds", "arcade_tick_jitter_seconds"):
            buckets = [value for (sample, labels), value in samples.items()
                       if sample == f"{name}_bucket"]  # fmt: skip
            self.assertEqual(buckets, sorted(buckets), name)  # cumulative
            inf = samples[(f"{name}_bucket", (("le", "+Inf"),))]
            self.assertGreaterEqual(inf, 90)
            self.assertEqual(samples[(f"{name}_gcount", ())], inf)
        # A Pong tick takes well under 10 ms, two 2 ms group-commit windows included (a
        # loaded test machine adds outliers): most durations are in the low buckets.
        fast = samples[("arcade_tick_duration_seconds_bucket", (("le", "0.01"),))]
        self.assertGreater(fast, 0.5 * samples[("arcade_tick_duration_seconds_gcount", ())])
        self.assertGreater(samples[("arcade_tick_duration_seconds_gsum", ())], 0)

        Match.objects.filter(pk=match.pk).update(status=Match.Status.FINISHED)
        samples = scrape(self.client)
        # Only running matches count in the gauges; the counters keep their totals.
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "player"),))], 0)
        self.assertEqual(samples[("arcade_tick_duration_seconds_gcount", ())], 0)
        self.assertGreaterEqual(samples[("arcade_ticks_total", ())], ticks_total)
