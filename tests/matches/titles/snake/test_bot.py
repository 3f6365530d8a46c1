"""The Snake bot: what it decides in hand-made positions, and whole bot matches."""

from __future__ import annotations

import unittest

from tests.matches.titles.helpers import run_bots
from tests.matches.titles.snake.test_rules import T, board, horizontal


class SnakeBotTests(unittest.TestCase):
    def test_the_bot_heads_for_food(self):
        state = board(horizontal(5, 5), horizontal(5, 12), food=[(5, 1)])
        self.assertEqual(T.bot_input(state, 0), {"turn": "up"})

    def test_the_bot_turns_away_from_a_wall(self):
        state = board(horizontal(15, 5), horizontal(5, 12), food=[(15, 0)])
        self.assertEqual(T.bot_input(state, 0), {"turn": "up"})
        state["food"] = []
        self.assertIn(T.bot_input(state, 0)["turn"], ("up", "down"))

    def test_the_bot_avoids_a_dead_end_pocket_even_if_food_is_inside(self):
        # Snake 1 walls off a 1x5 pocket along the left edge; the food is inside it, but
        # snake 0 (length 6, heading up at the pocket's mouth) would be trapped there.
        me = [(0, 5 + k) for k in range(6)]
        wall = [(1, k) for k in range(5)]
        state = board((me, "up"), (wall, "up"), food=[(0, 1)])
        self.assertEqual(T.bot_input(state, 0), {"turn": "right"})
        # Without the pocket's walls it would go straight for the food.
        state = board((me, "up"), (wall[:1], "up"), food=[(0, 1)])
        self.assertEqual(T.bot_input(state, 0), {"turn": "up"})

    def test_the_bot_of_a_dead_snake_is_silent(self):
        state = board(horizontal(15, 5), horizontal(5, 12), horizontal(5, 14))
        T.step(state)
        self.assertIsNone(T.bot_input(state, 0))

    def test_a_bot_match_finishes_within_the_time_limit_with_a_sensible_result(self):
        for players, seed in ((2, 1), (4, 2), (8, 3)):
            with self.subTest(players=players):
                state, ticks = run_bots(
                    T, players=players, seed=seed, settings={"max_players": 8, "time_limit_s": 30}
                )
                self.assertTrue(T.is_finished(state))
                self.assertLessEqual(ticks, 300)
                result = T.result(state)
                self.assertEqual(sorted(result["ranking"]), list(range(players)))
                self.assertGreater(sum(result["scores"]), 0)
                if result["winner"] is not None:
                    self.assertEqual(result["ranking"][0], result["winner"])


if __name__ == "__main__":
    unittest.main()
