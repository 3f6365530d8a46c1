"""The Thrust Arena bot: what it decides in hand-made positions, and whole bot matches."""

from __future__ import annotations

import math
import unittest

from matches.titles.arena import rules as A
from tests.matches.titles.arena.test_rules import T, duel, place, quiet
from tests.matches.titles.helpers import run_bots


class ArenaBotTests(unittest.TestCase):
    def test_the_bot_leads_a_moving_target(self):
        state = duel(distance=300.0)
        state["ships"][1]["vy"] = 6.0  # crossing downwards
        inp = T.bot_input(state, 0)
        self.assertGreater(inp["aim"], 0.1)  # aims below the target's current position
        self.assertLess(inp["aim"], 0.6)
        # The lead is right: a shot along the aim meets the target.
        t = 300.0 / (A.SHOT_SPEED * math.cos(inp["aim"]))
        self.assertAlmostEqual(A.SHOT_SPEED * math.sin(inp["aim"]) * t, 6.0 * t, delta=20.0)

    def test_the_bot_fires_when_aligned_and_in_range(self):
        state = duel(distance=300.0)
        inp = T.bot_input(state, 0)
        self.assertTrue(inp["fire"])
        self.assertFalse(T.bot_input(duel(distance=A.SHOT_SPEED * A.SHOT_LIFE + 50), 0)["fire"])

    def test_the_bot_does_not_fire_at_a_protected_ship(self):
        state = duel(distance=300.0)
        state["ships"][1]["inv"] = 10
        self.assertFalse(T.bot_input(state, 0)["fire"])

    def test_the_bot_closes_in_on_a_far_target(self):
        self.assertTrue(T.bot_input(duel(distance=480.0), 0)["thrust"])
        self.assertFalse(T.bot_input(duel(distance=150.0), 0)["thrust"])

    def test_the_bot_steers_away_from_a_wall_it_is_heading_for(self):
        state = duel()
        place(state, 0, 60.0, 500.0, a=math.pi, vx=-6.0)
        inp = T.bot_input(state, 0)
        self.assertAlmostEqual(inp["aim"], 0.0)
        self.assertFalse(inp["fire"])

    def test_the_bot_is_silent_when_destroyed_or_finished(self):
        state = duel()
        state["ships"][0]["alive"] = False
        self.assertIsNone(T.bot_input(state, 0))
        state = quiet()
        state["end_tick"] = 1
        T.step(state)
        self.assertIsNone(T.bot_input(state, 1))

    def test_a_bot_match_reaches_the_time_limit_with_kills(self):
        for players, seed in ((2, 4), (6, 5)):
            with self.subTest(players=players):
                state, ticks = run_bots(
                    T, players=players, seed=seed, settings={"time_limit_s": 30}
                )
                self.assertTrue(T.is_finished(state))
                self.assertEqual(ticks, 900)
                result = T.result(state)
                self.assertGreater(sum(result["scores"]), players)
                self.assertEqual(sorted(result["ranking"]), list(range(players)))
                self.assertEqual(sum(s["deaths"] for s in state["ships"]), sum(result["scores"]))


if __name__ == "__main__":
    unittest.main()
