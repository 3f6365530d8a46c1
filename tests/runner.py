"""The project's test runner: the real services the tests talk to, then Django's runner.

Redis is whatever REDIS_URL names, else the private redis-server (started here, stopped at
the end). Static files are collected as in production, where the manifest storage needs them.
"""

import logging
import os
import time

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test.runner import DiscoverRunner

from realtime.dev import devredis
from realtime.gateway import dbpool


class StackTestRunner(DiscoverRunner):
    def setup_test_environment(self, **kwargs):
        # Tests speak plain HTTP to the test client and to local servers; no TLS redirect.
        os.environ["SECURE_SSL_REDIRECT"] = "0"
        settings.SECURE_SSL_REDIRECT = False
        logging.getLogger().setLevel(logging.WARNING)
        self._redis_proc = devredis.ensure()
        call_command("collectstatic", interactive=False, verbosity=0)
        _retry_flush_on_deadlock()
        super().setup_test_environment(**kwargs)

    def teardown_test_environment(self, **kwargs):
        super().teardown_test_environment(**kwargs)
        if self._redis_proc is not None:
            devredis.stop_all()

    def teardown_databases(self, old_config, **kwargs):
        # Live tests' servers and the ASGI test client's worker threads open connections of
        # their own; PostgreSQL refuses to drop a test database anyone is still connected to.
        connections.close_all()
        dbpool.POOL.release()
        for alias in connections:
            _end_other_sessions(connections[alias])
        super().teardown_databases(old_config, **kwargs)

    def build_suite(self, test_labels=None, **kwargs):
        return super().build_suite(test_labels or ["tests"], **kwargs)


def _retry_flush_on_deadlock() -> None:
    """A live test's servers may still write (a socket's disconnect) while the flush after it
    truncates on PostgreSQL; the deadlock aborts one side, and the flush tried again passes."""
    from django.test import TransactionTestCase

    teardown = TransactionTestCase._fixture_teardown
    if getattr(teardown, "retries_deadlocks", False):
        return

    def fixture_teardown(self):
        for attempt in range(5):
            try:
                return teardown(self)
            except Exception as exc:
                if "deadlock detected" not in f"{exc} {exc.__cause__}" or attempt == 4:
                    raise
                logging.getLogger(__name__).warning("flush deadlocked; trying it again")
                time.sleep(0.2 * (attempt + 1))

    fixture_teardown.retries_deadlocks = True
    TransactionTestCase._fixture_teardown = fixture_teardown


def _end_other_sessions(connection) -> None:
    """End the sessions other processes or threads still hold on this test database."""
    if connection.vendor != "postgresql":
        return
    db = connection.settings_dict
    with psycopg.connect(
        dbname="postgres", user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True,
    ) as admin:  # fmt: skip
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [db["NAME"]],
        ).fetchall()
    if ended:
        logging.getLogger(__name__).warning(
            "ended %d session(s) still open on %s before dropping it", len(ended), db["NAME"]
        )
