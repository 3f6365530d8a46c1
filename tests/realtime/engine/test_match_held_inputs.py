"""Inputs that ask for a later tick (`at`, docs/protocol.md) wait in the runner until then."""

import json

from django.test import SimpleTestCase, override_settings

from realtime import groups, store
from realtime.engine.match import MatchRunner, Outcome
from tests.support.matches import queue_input, redis_match
from tests.support.stack import flush_redis


def running(match_id: int = 1) -> MatchRunner:
    redis_match(match_id)
    runner = MatchRunner(match_id)
    assert runner.acquire() is Outcome.CONTINUE
    return runner


def acks(match_id: int = 1) -> list[int]:
    stored = store.client().hget(store.key(match_id, "state"), "snapshot")
    return json.loads(groups.snapshot_text(stored))["acks"]


def paddle(runner: MatchRunner, slot: int = 0) -> float:
    return runner.state["paddles"][slot]["y"]


class HeldInputTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_an_early_input_is_applied_in_the_step_that_makes_the_tick_it_asked_for(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, at=3)
        y0 = paddle(runner)
        runner.advance()  # tick 1
        runner.advance()  # tick 2
        self.assertEqual((paddle(runner), acks()), (y0, [0, 0]))
        runner.advance()  # tick 3: the first state that shows it
        self.assertGreater(paddle(runner), y0)
        self.assertEqual((runner.state["tick"], acks()), (3, [1, 0]))

    def test_a_late_or_unstamped_input_is_applied_at_the_next_tick(self):
        runner = running()
        runner.advance()
        runner.advance()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=2, at=1)
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=7, tick=2)
        y0, y1 = paddle(runner, 0), paddle(runner, 1)
        runner.advance()
        self.assertGreater(paddle(runner, 0), y0)
        self.assertGreater(paddle(runner, 1), y1)
        self.assertEqual(acks(), [1, 7])

    def test_an_input_is_held_no_longer_than_the_hold_past_its_arrival(self):
        with override_settings(INPUT_HOLD_MS=100):  # 3 ticks at 30 Hz
            runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=0, at=10**9)
        ticks_until = None
        for _ in range(10):
            runner.advance()
            if acks() == [1, 0]:
                ticks_until = runner.state["tick"]
                break
        self.assertEqual(ticks_until, 4)  # arrived at 0: shown by tick 0 + 1 + 3 at the latest

    def test_a_later_input_of_the_slot_never_overtakes_a_held_one(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, at=4)
        queue_input(match_id=1, slot=0, payload={"dir": 0}, seq=2)  # no `at`: would be at once
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=5)  # another slot: not held
        y0 = paddle(runner)
        runner.advance()
        self.assertEqual(acks(), [0, 5])
        for _ in range(3):
            runner.advance()
        # Both at tick 4, in their order: down, then stop, so the paddle never moved.
        self.assertEqual((runner.state["tick"], acks(), paddle(runner)), (4, [2, 5], y0))

    def test_the_replay_log_has_a_held_input_at_the_tick_it_was_applied(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": -1}, seq=1, at=3)
        for _ in range(4):
            runner.advance()
        entries = dict(store.load_log(1))
        self.assertEqual(entries, {2: [["i", 0, {"dir": -1}]]})

    def test_a_runner_handing_the_match_over_puts_its_held_inputs_back_in_order(self):
        first = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, at=5)
        queue_input(match_id=1, slot=0, payload={"dir": -1}, seq=2, at=6)
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=3)  # applied at once
        first.advance()
        first.release()
        rows = [json.loads(r) for r in store.client().lrange(store.key(1, "inputs"), 0, -1)]
        self.assertEqual([(r["seq"], r["at"]) for r in rows], [(1, 5), (2, 6)])
        second = MatchRunner(1)
        self.assertIs(second.acquire(), Outcome.CONTINUE)
        for _ in range(4):
            second.advance()
        self.assertEqual(acks(), [1, 3])  # tick 5 shows seq 1
        second.advance()
        self.assertEqual(acks(), [2, 3])

    def test_a_forfeit_drops_what_its_slot_had_held(self):
        runner = running()
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=1, at=5)
        runner.advance()
        store.push_forfeit(match_id=1, slot=1, reason="test")
        runner.advance()
        self.assertEqual(runner.held, [])

    def test_a_row_whose_at_is_not_a_tick_is_dropped_and_counted(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, at="soon")
        y0 = paddle(runner)
        runner.advance()
        self.assertEqual((paddle(runner), acks(), runner._refused), (y0, [0, 0], {"malformed": 1}))


def log(match_id: int = 1) -> dict[int, list]:
    """The replay log by the tick each entry was applied at (the step makes the next one)."""
    return dict(store.load_log(match_id))


def run_to(runner: MatchRunner, tick: int) -> None:
    while runner.state["tick"] < tick:
        runner.advance()


class LateInputTests(SimpleTestCase):
    """An input applied after the tick it asked for carries how late it is (its catch-up)."""

    def setUp(self):
        flush_redis()

    def test_a_late_input_is_logged_with_how_many_ticks_after_its_at_it_was_applied(self):
        runner = running()
        run_to(runner, 5)
        y0 = paddle(runner)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=5, at=3)
        runner.advance()  # makes tick 6: 3 ticks after the one it asked for
        self.assertEqual(log(), {5: [["i", 0, {"dir": 1}, 3]]})
        self.assertEqual((paddle(runner), acks()), (y0 + 4 * 10.0, [1, 0]))

    def test_the_catch_up_is_at_most_the_setting(self):
        with override_settings(INPUT_CATCH_UP_MS=100):  # 3 ticks at 30 Hz
            runner = running()
        run_to(runner, 10)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=10, at=2)
        runner.advance()
        self.assertEqual(log(), {10: [["i", 0, {"dir": 1}, 3]]})

    def test_no_catch_up_at_a_setting_of_zero(self):
        with override_settings(INPUT_CATCH_UP_MS=0):
            runner = running()
        run_to(runner, 4)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=4, at=2)
        runner.advance()
        self.assertEqual(log(), {4: [["i", 0, {"dir": 1}]]})

    def test_the_catch_up_never_reaches_back_past_the_slots_previous_input(self):
        runner = running()
        run_to(runner, 4)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=4)  # applied at 5
        run_to(runner, 7)
        queue_input(match_id=1, slot=0, payload={"dir": -1}, seq=2, tick=7, at=3)
        queue_input(match_id=1, slot=1, payload={"dir": -1}, seq=9, tick=7, at=3)
        runner.advance()  # makes tick 8: slot 0 moved at 5, slot 1 never did
        self.assertEqual(log()[7], [["i", 0, {"dir": -1}, 3], ["i", 1, {"dir": -1}, 5]])

    def test_inputs_stalled_together_each_catch_up_to_their_own_at(self):
        runner = running()
        run_to(runner, 6)
        y0 = paddle(runner)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=6, at=2)
        queue_input(match_id=1, slot=0, payload={"dir": 0}, seq=2, tick=6, at=4)
        runner.advance()  # makes tick 7
        self.assertEqual(log(), {6: [["i", 0, {"dir": 1}, 5], ["i", 0, {"dir": 0}, 3]]})
        self.assertEqual(paddle(runner), y0 + 2 * 10.0)  # down for ticks 2 and 3, as asked

    def test_a_catch_up_never_reaches_back_before_the_previous_input_took_effect(self):
        runner = running()
        run_to(runner, 6)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=6, at=4)
        queue_input(match_id=1, slot=0, payload={"dir": 0}, seq=2, tick=6, at=2)
        queue_input(match_id=1, slot=0, payload={"dir": -1}, seq=3, tick=6, at=2)
        runner.advance()  # makes tick 7: the first took effect at 4, so do the others
        self.assertEqual(log()[6], [["i", 0, {"dir": 1}, 3], ["i", 0, {"dir": 0}, 3],
                                    ["i", 0, {"dir": -1}, 3]])  # fmt: skip

    def test_a_second_input_of_a_slot_in_the_same_step_as_an_on_time_one_has_no_catch_up(self):
        runner = running()
        run_to(runner, 6)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=6)
        queue_input(match_id=1, slot=0, payload={"dir": 0}, seq=2, tick=6, at=3)
        runner.advance()
        self.assertEqual(log(), {6: [["i", 0, {"dir": 1}], ["i", 0, {"dir": 0}]]})

    def test_an_input_on_time_or_without_at_keeps_three_elements(self):
        runner = running()
        run_to(runner, 2)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=2, at=3)
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=1, tick=2)
        runner.advance()
        self.assertEqual(log(), {2: [["i", 0, {"dir": 1}], ["i", 1, {"dir": 1}]]})

    def test_a_held_input_applied_at_the_tick_it_asked_for_has_no_catch_up(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=0, at=4)
        run_to(runner, 4)
        self.assertEqual(log(), {3: [["i", 0, {"dir": 1}]]})

    def test_a_runner_that_took_the_match_over_catches_up_no_further_back_than_its_takeover(self):
        first = running()
        run_to(first, 5)
        first.release()
        second = MatchRunner(1)
        self.assertIs(second.acquire(), Outcome.CONTINUE)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=1, tick=5, at=2)
        second.advance()
        self.assertEqual(log(), {5: [["i", 0, {"dir": 1}, 1]]})
