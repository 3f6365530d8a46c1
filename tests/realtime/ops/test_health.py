"""Probes: /healthz (alive), /readyz (database, Redis, a tick worker's heartbeat)."""

import socket
import time

from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings

from realtime.engine import heartbeat
from tests.support import stack


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


class ProbeTests(SimpleTestCase):
    @override_settings(ALLOWED_HOSTS=["games.example.com"], SECURE_SSL_REDIRECT=True)
    def test_healthz_answers_a_probe_by_ip_over_plain_http(self):
        # Docker and load balancers probe by IP and without TLS: no 400, no redirect.
        response = self.client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ok"}))


class ReadyzTests(TestCase):
    def setUp(self):
        stack.flush_redis()

    def test_readyz_fails_naming_the_tick_workers_when_no_heartbeat_is_present(self):
        response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 503)
        failed = response.json()["failed"]
        self.assertEqual(list(failed), ["tick_workers"])
        self.assertIn("no tick worker heartbeat", failed["tick_workers"])

    def test_readyz_fails_when_the_only_heartbeat_is_older_than_its_ttl(self):
        heartbeat.beat("ticks-old@host", now=time.time() - heartbeat.TTL_S - 1)
        self.assertEqual(self.client.get("/readyz").status_code, 503)
        heartbeat.beat("ticks-new@host")
        response = self.client.get("/readyz")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["tick_workers"], ["ticks-new@host"])

    def test_readyz_fails_naming_redis_when_redis_is_unreachable(self):
        heartbeat.beat("ticks1@host")
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
            started = time.monotonic()
            response = self.client.get("/readyz")
            took = time.monotonic() - started
        self.assertEqual(response.status_code, 503)
        body = response.json()
        self.assertEqual(body["status"], "unavailable")
        self.assertEqual(sorted(body["failed"]), ["redis", "tick_workers"])
        self.assertIn("ConnectionError", body["failed"]["redis"])
        self.assertLess(took, 2.0)  # a probe must answer within the prober's timeout


class ReadyzWithWorkerTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()

    def test_readyz_passes_with_a_real_tick_worker_and_fails_once_it_stopped(self):
        worker = stack.tick_worker("ticks1")
        self.addCleanup(worker.stop)
        stack.wait_ready(worker)
        stack.wait_for(lambda: self.client.get("/readyz").status_code == 200, timeout=5,
                       what="the worker's heartbeat")  # fmt: skip
        body = self.client.get("/readyz").json()
        self.assertEqual(body["tick_workers"], [f"ticks1@{socket.gethostname()}"])
        worker.stop()
        # A warm shutdown takes the worker out at once, not after the TTL.
        self.assertEqual(self.client.get("/readyz").status_code, 503)

    def test_a_default_worker_alone_does_not_make_the_system_ready(self):
        worker = stack.default_worker()
        self.addCleanup(worker.stop)
        stack.wait_ready(worker)
        time.sleep(heartbeat.INTERVAL_S + 0.5)
        self.assertEqual(heartbeat.alive(), [])
        self.assertEqual(self.client.get("/readyz").status_code, 503)
