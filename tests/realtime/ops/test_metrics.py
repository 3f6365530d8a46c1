"""The Prometheus endpoint: every process's figures from Redis, labelled by process, as real
tick workers and Daphnes produce them; real histograms and counters."""

import asyncio
import json
import socket
import time

from asgiref.sync import async_to_sync
from django.test import TestCase, TransactionTestCase
from prometheus_client.parser import text_string_to_metric_families

from matches import services
from matches.models import Match
from realtime import figures, store
from realtime.engine import heartbeat, supervisor
from realtime.ops.metrics import _buckets
from tests.support import stack
from tests.support.live import pong_players
from tests.support.matches import counting_down


def families(client, path: str = "/metrics") -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def scrape(client) -> dict[tuple, float]:
    """{(sample name, sorted label pairs): value} of one /metrics response."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families(client).values()
        for s in family.samples
    }


def flush(name: str, increments: list, gauges: list = (), *, at: float | None = None) -> None:
    """What a process's once-a-second flush writes (realtime.figures), through the script."""
    keys, args = store.flush_process_args(name, list(increments), list(gauges),
                                          now=time.time() if at is None else at)  # fmt: skip
    store.scripts().flush_process(keys=keys, args=args)


class FiguresTests(TestCase):
    def test_fine_buckets_become_the_exported_ones_and_then_cumulative_seconds(self):
        fine = [0] * 1000  # 0.1 ms buckets, as realtime.engine.stats keeps them
        fine[0] = 1  # 0.05 ms: under 0.1 ms
        fine[1] = 2  # 0.15 ms: under 0.2 ms
        fine[7] = 3  # 0.75 ms: under 1 ms
        fine[300] = 4  # 30 ms: under 50 ms
        fine[999] = 5  # 100 ms and more: only +Inf
        counts = figures.coarse(fine, 0.1)
        self.assertEqual(counts, [1, 2, 0, 3, 0, 0, 0, 0, 4, 5])
        fields = dict(zip(*[iter(figures.histogram_fields("x", counts, 1000.0))] * 2, strict=True))
        buckets, total = _buckets(fields, "x")
        self.assertEqual(
            buckets,
            [("0.0001", 1), ("0.0002", 3), ("0.0005", 3), ("0.001", 6), ("0.002", 6),
             ("0.005", 6), ("0.01", 6), ("0.02", 6), ("0.05", 10), ("+Inf", 15)],
        )  # fmt: skip
        self.assertEqual(total, 1.0)

    def test_a_process_figures_are_increments_since_the_last_take(self):
        f = figures.Figures()
        f.count("ticks", 3)
        f.observe("tick_batch", 0.3)  # bucket "0.5 ms"
        f.observe("tick_batch", 70)  # +Inf
        f.gauges["matches_held"] = 2
        increments, gauges = f.take()
        self.assertEqual(increments, ["c:ticks", 3, "h:tick_batch:2", 1, "h:tick_batch:9", 1,
                                      "h:tick_batch:sum_us", 70300])  # fmt: skip
        self.assertEqual(gauges, ["g:matches_held", 2])
        self.assertEqual(f.take(), ([], ["g:matches_held", 2]))


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

    def test_each_process_has_its_own_series_and_fresh_gauges_only(self):
        # Two Daphnes and a tick worker, as their flushes write; the first Daphne twice.
        flush("daphne@a:1", ["c:inputs_refused:server_busy", 1, "c:ws_closed:4429", 2],
              ["g:ws_sockets", 10, "g:ws_write_backlog_bytes", 0])  # fmt: skip
        flush("daphne@a:1", ["c:inputs_refused:server_busy", 2], ["g:ws_sockets", 12])
        flush("daphne@b:1", [], ["g:ws_sockets", 3], at=time.time() - 60)
        flush("ticks1@h", ["c:ticks", 90, "h:tick_jitter:0", 80, "h:tick_jitter:6", 10,
                           "h:tick_jitter:sum_us", 20000],
              ["g:matches_held", 1])  # fmt: skip
        samples = scrape(self.client)
        a, b, t = (
            (("process", "daphne@a:1"),),
            (("process", "daphne@b:1"),),
            (("process", "ticks1@h"),),
        )
        self.assertEqual(
            samples[("arcade_inputs_refused_total", (*a, ("reason", "server_busy")))], 3
        )
        self.assertEqual(samples[("arcade_ws_closed_total", (("code", "4429"), *a))], 2)
        # Known codes are there at zero: a rate over them is 0, not nothing.
        self.assertEqual(samples[("arcade_ws_closed_total", (("code", "4408"), *a))], 0)
        self.assertEqual(samples[("arcade_ws_sockets", a)], 12)
        self.assertNotIn(("arcade_ws_sockets", b), samples)  # quiet for a minute: gone
        self.assertEqual(samples[("arcade_ticks_total", t)], 90)
        self.assertEqual(samples[("arcade_tick_matches_held", t)], 1)
        self.assertEqual(samples[("arcade_tick_jitter_seconds_bucket", (("le", "0.005"), *t))], 80)
        self.assertEqual(samples[("arcade_tick_jitter_seconds_bucket", (("le", "0.01"), *t))], 90)
        self.assertEqual(samples[("arcade_tick_jitter_seconds_count", t)], 90)
        self.assertEqual(samples[("arcade_tick_jitter_seconds_sum", t)], 0.02)
        self.assertEqual(samples[("arcade_broadcasts_total", (("kind", "state"), *t))], 0)
        self.assertEqual(samples[("arcade_tick_workers", ())], 0)
        self.assertEqual(samples[("arcade_ready", (("check", "tick_workers"),))], 0)
        self.assertEqual(samples[("arcade_ready", (("check", "all"),))], 0)
        self.assertEqual(samples[("arcade_ready", (("check", "redis"),))], 1)

    def test_a_probe_needs_no_allowed_host_and_no_session(self):
        for path in ("/metrics", "/metrics/process"):
            response = self.client.get(path, HTTP_HOST="10.0.0.9:8000")
            self.assertEqual(response.status_code, 200)
            self.assertNotIn("Set-Cookie", response.headers)

    def test_the_process_endpoint_has_the_http_request_metrics(self):
        self.client.get("/api/titles")
        found = families(self.client, "/metrics/process")
        self.assertIn("django_http_requests_total_by_view_transport_method", found)
        self.assertIn("django_http_requests_latency_seconds_by_view_method", found)
        self.assertEqual(found["django_http_requests_latency_seconds_by_view_method"].type,
                         "histogram")  # fmt: skip


class MetricsLiveTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.worker = stack.tick_worker("ticks1")
        self.addCleanup(self.worker.stop)
        stack.wait_ready(self.worker)

    def test_a_running_match_shows_in_the_tick_workers_series(self):
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
        found = families(self.client)
        samples = scrape(self.client)
        worker = f"ticks1@{socket.gethostname()}"
        me = (("process", worker),)
        self.assertEqual(heartbeat.alive(), [worker])
        self.assertEqual(samples[("arcade_matches", (("status", "running"),))], 1)
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "player"),))], 1)
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "spectator"),))], 1)
        self.assertEqual(samples[("arcade_tick_workers", ())], 1)
        self.assertLess(samples[("arcade_tick_worker_heartbeat_age_seconds", me)], 10)
        self.assertEqual(samples[("arcade_tick_matches_held", me)], 1)
        self.assertEqual(samples[("arcade_ready", (("check", "tick_workers"),))], 1)
        ticks = samples[("arcade_ticks_total", me)]
        self.assertGreaterEqual(ticks, 60)
        self.assertLessEqual(ticks, store.load_stats(match.pk)["ticks"] + 30)
        self.assertEqual(samples[("arcade_broadcasts_total", (("kind", "state"), *me))], ticks)
        self.assertEqual(
            samples[("arcade_inputs_refused_total", (*me, ("reason", "bad_input")))], 1
        )
        self.assertEqual(
            samples[("arcade_inputs_refused_total", (*me, ("reason", "malformed")))], 1
        )
        for name in ("arcade_tick_duration_seconds", "arcade_tick_jitter_seconds",
                     "arcade_tick_batch_seconds", "arcade_redis_batch_seconds"):  # fmt: skip
            self.assertEqual(found[name].type, "histogram", name)
            buckets = [v for (sample, labels), v in samples.items() if sample == f"{name}_bucket"]
            self.assertEqual(buckets, sorted(buckets), name)  # cumulative
            self.assertEqual(samples[(f"{name}_bucket", (("le", "+Inf"), *me))],
                             samples[(f"{name}_count", me)])  # fmt: skip
            self.assertGreater(samples[(f"{name}_sum", me)], 0, name)
        # One match: a tick is a batch, each counted once per flush.
        self.assertEqual(samples[("arcade_tick_duration_seconds_count", me)], ticks)
        self.assertEqual(found["arcade_ticks"].type, "counter")

        Match.objects.filter(pk=match.pk).update(status=Match.Status.FINISHED)
        samples = scrape(self.client)
        # Counters and histograms are cumulative: a match that ends takes nothing away.
        self.assertEqual(samples[("arcade_connected_sockets", (("role", "player"),))], 0)
        self.assertGreaterEqual(samples[("arcade_ticks_total", me)], ticks)


class GatewayMetricsLiveTests(TransactionTestCase):
    """A real Daphne with two players: its sockets, frames, bytes, closes and latency."""

    def setUp(self):
        stack.flush_redis()
        self.services = [stack.tick_worker("ticks1"), stack.default_worker(), stack.beat()]
        stack.wait_ready(*self.services[:2])
        self.daphne = stack.daphne()
        self.services.append(self.daphne)

    def tearDown(self):
        for service in reversed(self.services):
            service.stop()

    def test_a_daphne_reports_its_sockets_frames_closes_and_input_latency(self):
        async_to_sync(self._play)()

    async def _play(self):
        _, a, b = await pong_players(self.daphne.origin)
        await a.until(lambda: len(a.states) > 40, 20, "states")
        for i in range(20):
            await a.send_input({"dir": 1 if i % 2 else -1})
            await asyncio.sleep(0.05)
        await asyncio.sleep(2.5)  # two flushes of the Daphne's figures
        samples = await asyncio.to_thread(scrape, self.client)
        daphne = [dict(labels)["process"] for (name, labels), _ in samples.items()
                  if name == "arcade_ws_sockets"]  # fmt: skip
        self.assertEqual(len(daphne), 1, samples)
        self.assertTrue(daphne[0].startswith("daphne@"), daphne)
        me = (("process", daphne[0]),)
        self.assertEqual(samples[("arcade_ws_sockets", me)], 2)
        self.assertGreaterEqual(samples[("arcade_ws_write_backlog_bytes", me)], 0)
        frames = samples[("arcade_ws_frames_sent_total", me)]
        self.assertGreater(frames, 80)
        self.assertGreater(samples[("arcade_ws_bytes_sent_total", me)], 20 * frames)
        latency = samples[("arcade_input_latency_seconds_count", me)]
        self.assertGreater(latency, 5)
        # Server side only (no network): well under a second even on a loaded machine.
        self.assertLess(samples[("arcade_input_latency_seconds_sum", me)] / latency, 0.5)
        await b.close()
        await asyncio.sleep(2.5)
        samples = await asyncio.to_thread(scrape, self.client)
        self.assertEqual(samples[("arcade_ws_sockets", me)], 1)
        closed = {dict(labels)["code"]: v for (name, labels), v in samples.items()
                  if name == "arcade_ws_closed_total"}  # fmt: skip
        self.assertEqual(sum(closed.values()), 1, closed)
        await a.close()
