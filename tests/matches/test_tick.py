"""One tick function for the live match and its replay."""

import json
from unittest import mock

from django.test import SimpleTestCase, TestCase

from matches import replay, tick
from matches.titles import get_title
from realtime.engine.match import MatchRunner, Outcome
from tests.support.matches import queue_input, redis_match
from tests.support.stack import flush_redis

PONG = get_title("pong")


def new_pong(seed: int = 3) -> dict:
    return PONG.initial_state(players=2, seed=seed, settings=PONG.validate_settings({}))


class AdvanceTests(SimpleTestCase):
    def test_entries_apply_in_order_then_bots_decide_then_the_rules_step(self):
        state = tick.advance(PONG, new_pong(), entries=[["i", 0, {"dir": 1}]], bots=(1,))
        self.assertEqual(state["tick"], 1)
        self.assertEqual(state["paddles"][0]["dir"], 1)
        self.assertEqual(state["paddles"][1]["dir"], PONG.bot_input(new_pong(), 1)["dir"])

    def test_a_paused_tick_applies_its_entries_without_stepping(self):
        state = tick.advance(PONG, new_pong(), entries=[["i", 0, {"dir": -1}]], bots=(1,),
                             step=False)  # fmt: skip
        self.assertEqual(state["tick"], 0)
        self.assertEqual(state["paddles"][0]["dir"], -1)

    def test_an_entry_that_came_late_is_caught_up_by_the_title(self):
        with mock.patch.object(PONG, "apply_late_input", wraps=PONG.apply_late_input) as spy:
            state = tick.advance(PONG, new_pong(), entries=[["i", 0, {"dir": 1}, 3]], bots=())
        spy.assert_called_once_with(mock.ANY, 0, {"dir": 1}, 3)
        self.assertEqual(state["paddles"][0]["y"], new_pong()["paddles"][0]["y"] + 4 * 10.0)

    def test_a_title_without_a_catch_up_applies_a_late_entry_as_it_comes(self):
        snake = get_title("snake")
        fresh = snake.initial_state(players=2, seed=3, settings=snake.validate_settings({}))
        late, now = (
            tick.advance(snake, json.loads(json.dumps(fresh)), entries=[entry], bots=())
            for entry in (["i", 0, {"turn": "down"}, 4], ["i", 0, {"turn": "down"}])
        )
        self.assertEqual(late, now)

    def test_a_forfeit_entry_forfeits_the_slot(self):
        state = tick.advance(PONG, new_pong(), entries=[["f", 1]], bots=())
        self.assertTrue(PONG.is_finished(state))
        self.assertEqual(PONG.result(state)["winner"], 0)


class BothPathsTests(TestCase):
    def setUp(self):
        flush_redis()

    def test_the_runner_and_the_replay_both_tick_through_advance(self):
        redis_match(1, bots=(1,), seed=5)
        runner = MatchRunner(1)
        self.assertIs(runner.acquire(), Outcome.CONTINUE)
        queue_input(match_id=1, slot=0, payload={"dir": 1})
        with mock.patch.object(tick, "advance", wraps=tick.advance) as spy:
            for _ in range(3):
                runner.advance()
        self.assertEqual(spy.call_count, 3)
        self.assertEqual(spy.call_args_list[0].kwargs["entries"], [["i", 0, {"dir": 1}]])
        live = runner.state
        with mock.patch.object(tick, "advance", wraps=tick.advance) as spy:
            states = list(replay.states(
                title="pong", players=2, bots=(1,), seed=5, settings=PONG.validate_settings({}),
                log=[[0, [["i", 0, {"dir": 1}]]]], max_ticks=3,
            ))  # fmt: skip
        # Three stepped ticks, then the last recorded tick's entries (none), never stepped.
        self.assertEqual(spy.call_count, 4)
        self.assertEqual(states[-1], live)
