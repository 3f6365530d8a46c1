"""The gateway's database threads keep a connection through a burst and close it when idle."""

import asyncio
import threading
import time

from django.db import connection
from django.test import TransactionTestCase

from realtime.gateway import dbpool


def _connection_used():
    """The DB-API connection this thread's query ran on."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.connection


def _is_open() -> bool:
    return connection.connection is not None


class PoolTests(TransactionTestCase):
    def setUp(self):
        self.pool = dbpool.Pool(threads=1, idle_s=0.3, name="test-db")
        self.addCleanup(self.pool.release)

    def run_on_pool(self, func, *args):
        on_pool = dbpool.database_sync_to_async(func, thread_sensitive=False, executor=self.pool)
        return asyncio.run(on_pool(*args))

    def test_calls_in_a_burst_share_one_connection(self):
        first = self.run_on_pool(_connection_used)
        self.assertIs(self.run_on_pool(_connection_used), first)
        self.assertTrue(self.run_on_pool(_is_open))

    def test_a_thread_idle_past_its_idle_time_closes_its_connection(self):
        self.run_on_pool(_connection_used)
        time.sleep(0.8)
        self.assertFalse(self.run_on_pool(_is_open))

    def test_release_closes_every_workers_connection(self):
        pool = dbpool.Pool(threads=3, idle_s=60, name="test-db3")
        started = threading.Barrier(3)

        def query_together() -> bool:
            _connection_used()
            started.wait(timeout=5)  # three jobs at once: one on each worker
            return _is_open()

        futures = [pool.submit(query_together) for _ in range(3)]
        self.assertEqual([f.result(timeout=10) for f in futures], [True, True, True])
        pool.release()
        checks = [pool.submit(lambda: (started.wait(timeout=5), _is_open())[1]) for _ in range(3)]
        self.assertEqual([f.result(timeout=10) for f in checks], [False, False, False])
        pool.release()

    def test_a_connection_past_its_max_age_is_replaced(self):
        first = self.run_on_pool(_connection_used)
        with self.settings(GATEWAY_DB_CONN_MAX_AGE_S=0):
            self.run_on_pool(lambda: connection.close())
            aged = self.run_on_pool(_connection_used)
            self.assertIsNot(self.run_on_pool(_connection_used), aged)
        self.assertIsNot(aged, first)

    def test_a_failing_call_raises_in_the_caller_and_the_worker_goes_on(self):
        def fail():
            raise ValueError("no")

        with self.assertRaisesMessage(ValueError, "no"):
            self.run_on_pool(fail)
        self.assertTrue(self.run_on_pool(lambda: _connection_used() is not None))

    def test_connections_of_other_threads_keep_djangos_age_of_zero(self):
        seen = {}

        def plain_thread():
            _connection_used()
            seen["close_at"] = connection.close_at
            connection.close()

        thread = threading.Thread(target=plain_thread)
        thread.start()
        thread.join()
        self.assertLessEqual(seen["close_at"], time.monotonic())

    def test_urgent_jobs_run_before_waiting_normal_ones_and_each_kind_in_order(self):
        gate, ran = threading.Event(), []
        self.pool.submit(gate.wait, 5)  # holds the one worker while the others queue
        urgent = self.pool.urgent()
        futures = [
            self.pool.submit(ran.append, "handshake 1"),
            self.pool.submit(ran.append, "handshake 2"),
            urgent.submit(ran.append, "presence 1"),
            urgent.submit(ran.append, "presence 2"),
        ]
        gate.set()
        for future in futures:
            future.result(timeout=5)
        self.assertEqual(ran, ["presence 1", "presence 2", "handshake 1", "handshake 2"])
