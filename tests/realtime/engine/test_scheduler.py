import json
import threading

from django.test import SimpleTestCase

from realtime import store
from realtime.engine.match import MatchRunner, Outcome
from realtime.engine.pipeline import ScriptPipeline
from realtime.engine.scheduler import MAX_CATCHUP, Scheduler, run_match, scheduler
from tests.support.matches import redis_match
from tests.support.stack import flush_redis, wait_for

PERIOD = 1 / 30


class FakeClock:
    """Time that moves only when the loop sleeps or a tick costs something."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SchedulerTests(SimpleTestCase):
    """The loop run in the test's thread on a fake clock, against a real Redis."""

    def setUp(self):
        flush_redis()
        self.clock = FakeClock()
        self.slept: list[float] = []

        def sleep(seconds: float) -> None:
            self.slept.append(seconds)
            self.clock.sleep(seconds)

        self.scheduler = Scheduler(
            ScriptPipeline(store.client()), slots=1, clock=self.clock, wait=sleep
        )

    def _runner(self, match_id: int = 1, *, ticks: int = 300, cost=lambda k: 0.0):
        """An acquired runner whose step costs `cost(tick)` seconds and which stops itself
        after `ticks` ticks."""
        redis_match(match_id)
        runner = MatchRunner(match_id, clock=self.clock)
        self.assertIs(runner.acquire(), Outcome.CONTINUE)
        real_step, real_settle = runner.step, runner.settle

        def step(raw):
            self.clock.now += cost(runner.stats.ticks)
            return real_step(raw)

        def settle(reply):
            outcome = real_settle(reply)
            return Outcome.STOPPED if runner.stats.ticks >= ticks - 1 else outcome

        runner.step, runner.settle = step, settle
        return runner

    def test_deadlines_are_absolute_so_the_loop_does_not_drift(self):
        runner = self._runner(cost=lambda k: 0.004)
        entry = self.scheduler.add(runner)
        first = entry.deadline
        self.scheduler.loop()
        self.assertIs(entry.outcome, Outcome.STOPPED)
        self.assertEqual(runner.stats.ticks, 300)
        # 300 ticks started at first + k/30: the last one at 299/30 s, however long each took.
        self.assertAlmostEqual(self.clock.now - first, 299 * PERIOD + 0.004, places=6)
        self.assertEqual((runner.stats.overruns, runner.stats.skipped), (0, 0))
        self.assertEqual(store.load_state(1)["tick"], 300)

    def test_after_a_stall_the_loop_catches_up_a_bounded_number_of_ticks_then_skips(self):
        # Tick 100 stalls for 10 periods; the loop runs MAX_CATCHUP late ticks, skips the rest.
        runner = self._runner(cost=lambda k: 10 * PERIOD if k == 100 else 0.001)
        self.scheduler.add(runner)
        self.scheduler.loop()
        self.assertEqual(runner.stats.skipped, 10 - MAX_CATCHUP - 1)
        self.assertGreaterEqual(runner.stats.overruns, MAX_CATCHUP)
        self.assertEqual(json.loads(runner.stats.to_json())["skipped"], runner.stats.skipped)

    def test_matches_of_one_slot_tick_together_on_two_pipelines_a_tick(self):
        runners = [self._runner(i, ticks=30) for i in range(1, 7)]
        for runner in runners:
            self.scheduler.add(runner)
        self.scheduler.loop()
        self.assertEqual([r.stats.ticks for r in runners], [30] * 6)
        self.assertEqual(self.scheduler.batches, 30)
        self.assertEqual(self.scheduler.pipe.sent, 60)

    def test_slots_spread_the_matches_of_a_rate_evenly_over_the_period(self):
        spread = Scheduler(ScriptPipeline(store.client()), slots=4, clock=self.clock)
        entries = [spread.add(self._runner(i, ticks=1)) for i in range(1, 9)]
        offsets = sorted(round((e.t0 - spread._base) / PERIOD, 6) for e in entries)
        self.assertEqual(offsets, [0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75])

    def test_a_worker_shutdown_hands_back_every_match(self):
        stop = threading.Event()
        entries = [self.scheduler.add(self._runner(i), stop) for i in (1, 2)]
        stop.set()
        self.scheduler.loop()
        self.assertEqual([e.outcome for e in entries], [Outcome.RELEASED] * 2)

    def test_a_match_whose_rules_fail_stops_alone_and_the_others_tick_on(self):
        broken, fine = self._runner(1, ticks=30), self._runner(2, ticks=30)

        def explode(raw):
            raise ZeroDivisionError("a bug in the rules")

        broken.step = explode
        lost, kept = self.scheduler.add(broken), self.scheduler.add(fine)
        self.scheduler.loop()
        self.assertIsInstance(lost.error, ZeroDivisionError)
        self.assertIs(kept.outcome, Outcome.STOPPED)
        self.assertEqual(fine.stats.ticks, 30)

    def test_a_runner_whose_lease_was_taken_stops_with_lease_lost(self):
        runner = self._runner(1)
        store.client().incr(store.key(1, "epoch"))  # someone else took the match over
        entry = self.scheduler.add(runner)
        self.scheduler.loop()
        self.assertIs(entry.outcome, Outcome.LEASE_LOST)
        self.assertEqual(runner.stats.ticks, 1)

    def test_a_match_added_while_the_loop_sleeps_gets_its_own_deadlines(self):
        first = self._runner(1, ticks=3)
        self.scheduler.add(first)
        self.scheduler.loop()
        later = self._runner(2, ticks=3)
        entry = self.scheduler.add(later)
        self.assertGreater(entry.deadline, self.clock.now - 1e-9)
        self.scheduler.loop()
        self.assertEqual(later.stats.ticks, 3)


class RunMatchTests(SimpleTestCase):
    """The process's scheduler on a real clock, as the Celery task uses it."""

    def setUp(self):
        flush_redis()

    def test_a_match_runs_until_staff_stop_it_then_its_lease_is_free(self):
        redis_match(1)
        outcome: list[Outcome] = []
        thread = threading.Thread(target=lambda: outcome.append(run_match(1)))
        thread.start()
        wait_for(lambda: store.load_state(1)["tick"] >= 15, timeout=5, what="15 ticks")
        store.request_stop(1, "staff")
        thread.join(5)
        self.assertEqual(outcome, [Outcome.STOPPED])
        self.assertIsNone(store.lease_holder(1))
        self.assertGreaterEqual(store.load_stats(1)["ticks"], 15)

    def test_a_finished_match_reports_finished_to_its_task(self):
        redis_match(1)
        store.push_forfeit(match_id=1, slot=0, reason="gave up")
        self.assertIs(run_match(1), Outcome.FINISHED)
        self.assertEqual(store.load_state(1)["status"], "finished")

    def test_a_match_another_runner_holds_is_left_alone(self):
        redis_match(1)
        MatchRunner(1).acquire()
        self.assertIs(run_match(1), Outcome.BUSY)
        self.assertEqual(scheduler()._heap, [])
