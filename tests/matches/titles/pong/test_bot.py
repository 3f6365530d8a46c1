"""The Pong bot: what it decides in hand-made positions, and whole bot matches."""

from __future__ import annotations

import unittest

from matches.titles.pong import rules as P
from tests.matches.titles.helpers import run_bots
from tests.matches.titles.pong.test_rules import T, in_play, new


class PongBotTests(unittest.TestCase):
    def test_the_bot_moves_toward_the_predicted_intercept_including_wall_bounces(self):
        state = new()
        state["since_hit"] = 50
        # Heading left and down: it bounces off the bottom wall before reaching the paddle.
        in_play(state, x=300.0, y=400.0, vx=-10.0, vy=8.0)
        predicted, bounces = P.fold(400.0 + 8.0 * (300.0 - P.LEFT_FACE - P.BALL_R) / 10.0)
        self.assertEqual(bounces, 1)
        state["paddles"][0]["y"] = predicted - 150.0
        self.assertEqual(T.bot_input(state, 0), {"dir": 1})
        state["paddles"][0]["y"] = predicted + 150.0
        self.assertEqual(T.bot_input(state, 0), {"dir": -1})

    def test_the_bot_returns_to_the_centre_when_the_ball_moves_away(self):
        state = in_play(new(), x=300.0, y=400.0, vx=10.0, vy=0.0)
        state["paddles"][0]["y"] = 100.0
        self.assertEqual(T.bot_input(state, 0), {"dir": 1})

    def test_the_bot_reacts_with_a_lag(self):
        state = in_play(new(), x=300.0, y=400.0, vx=-10.0, vy=0.0)
        state["since_hit"] = 0
        state["paddles"][0]["dir"] = 0
        self.assertEqual(T.bot_input(state, 0), {"dir": 0})

    def test_the_bot_is_silent_once_the_match_is_over(self):
        state = T.forfeit(new(), 0)
        self.assertIsNone(T.bot_input(state, 1))

    def test_a_bot_match_has_real_rallies_and_finishes(self):
        hits = []
        state, ticks = run_bots(
            T,
            players=2,
            seed=2024,
            settings={"score_to": 3},
            max_ticks=30_000,
            on_tick=lambda s, _: hits.append(sum(s["hits"])),
        )
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual(max(result["scores"]), 3)
        self.assertIn(result["winner"], (0, 1))
        self.assertGreaterEqual(hits[-1], 6)
        self.assertEqual(result["ranking"][0], result["winner"])
        self.assertLess(ticks, 30_000)


if __name__ == "__main__":
    unittest.main()
