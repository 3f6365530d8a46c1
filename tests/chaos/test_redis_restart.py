"""Redis restarted mid-match: with the append-only file matches resume; without it they are
aborted with a recorded reason, never left "running" forever."""

import time

from django.test import TransactionTestCase

from matches.models import Match
from realtime import store
from realtime.dev import devredis
from realtime.engine.scheduler import scheduler
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.matches import counting_down


def _state(match_id: int) -> dict | None:
    try:
        return store.load_state(match_id)
    except Exception:  # Redis is down or loading: not an answer yet
        return None


class RedisRestartTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        workers = [stack.tick_worker("ticks1"), stack.default_worker()]
        self.services = [*workers, stack.beat()]
        stack.wait_ready(*workers)
        self.match = counting_down()
        stack.wait_for(lambda: (_state(self.match.pk) or {}).get("tick", 0) > 30, timeout=15,
                       what="the match to run")  # fmt: skip
        time.sleep(1.5)  # past one appendfsync (everysec)

    def tearDown(self):
        for service in self.services:
            service.stop()
        store.client.cache_clear()
        store.scripts.cache_clear()
        scheduler.cache_clear()

    @scenario("redis_restart_with_aof")
    def test_with_the_append_only_file_a_running_match_resumes(self):
        before = _state(self.match.pk)
        devredis.restart(keep_data=True)
        up_at = time.monotonic()
        # The first call may meet a connection the crash closed; the client reconnects.
        restored = stack.wait_for(
            lambda: _state(self.match.pk), timeout=5, what="the state back from the AOF"
        )

        def ticking_again():
            now = _state(self.match.pk)
            return now and now["epoch"] > restored["epoch"] and now["tick"] > restored["tick"]

        stack.wait_for(ticking_again, timeout=20, interval=0.1, what="the match to resume")
        resumed_s = time.monotonic() - up_at
        after = _state(self.match.pk)
        self.match.refresh_from_db()
        self.assertEqual(self.match.status, Match.Status.RUNNING)
        for was, now in zip(restored["state"]["scores"], after["state"]["scores"], strict=True):
            self.assertGreaterEqual(now, was)
        return {
            "resumed_after_redis_up_s": round(resumed_s, 2),
            "tick_read_before_crash": before["tick"],
            "tick_restored_from_aof": restored["tick"],
        }

    @scenario("redis_restart_without_persistence")
    def test_without_persistence_a_running_match_is_aborted_with_a_reason(self):
        devredis.restart(keep_data=False)
        up_at = time.monotonic()

        def aborted():
            self.match.refresh_from_db()
            return self.match.status == Match.Status.ABORTED

        stack.wait_for(aborted, timeout=20, interval=0.2, what="the match to be aborted")
        self.assertIn("state lost", self.match.abort_reason)
        return {"aborted_after_redis_up_s": round(time.monotonic() - up_at, 2),
                "reason": self.match.abort_reason}  # fmt: skip
