"""The Zombie Siege bot: what it decides in hand-made positions, and whole bot matches."""

from __future__ import annotations

import math
import unittest

from matches.titles.zombie import bot, rules
from tests.matches.titles.helpers import feed, run_bots
from tests.matches.titles.zombie.test_rules import T, siege


class ZombieBotTests(unittest.TestCase):
    def test_the_bot_aims_at_and_shoots_the_nearest_zombie_it_can_see(self):
        # The zombie below is nearer but behind the desk wall at (12, 9).
        state = siege(team=[(12.5, 7.5)], zombies=[(20.5, 7.5), (12.5, 10.5), (8.5, 7.5)])
        inp = T.bot_input(state, 0)
        self.assertTrue(inp["fire"])
        self.assertAlmostEqual(abs(inp["aim"]), math.pi, delta=rules_error())
        del state["zombies"][2]
        self.assertAlmostEqual(T.bot_input(state, 0)["aim"], 0.0, delta=rules_error())

    def test_the_bot_does_not_shoot_at_a_zombie_behind_a_wall(self):
        state = siege(team=[(13.5, 8.5)], zombies=[(20.5, 8.5)])
        self.assertFalse(T.bot_input(state, 0)["fire"])

    def test_the_bot_backs_away_from_a_zombie_too_close(self):
        state = siege(team=[(12.5, 7.5)], zombies=[(14.0, 7.5)])
        inp = T.bot_input(state, 0)
        self.assertEqual(inp["mx"], -1)

    def test_the_bot_walks_to_a_downed_teammate_and_holds_fire_beside_them(self):
        state = siege(2, team=[(12.5, 7.5), (20.5, 7.5)], zombies=[(30.5, 20.5)])
        state["team"][0].update(hp=0, down=True)
        self.assertEqual(T.bot_input(state, 1)["mx"], -1)
        for _ in range(200):
            inp = T.bot_input(state, 1)
            feed(T, state, 1, inp)
            T.step(state)
            if not state["team"][0]["down"]:
                break
        self.assertFalse(state["team"][0]["down"])

    def test_the_bot_finds_its_way_around_walls_to_a_box_when_low_on_ammo(self):
        state = siege(team=[(3.5, 3.5)], pickups=[(0, 3.5, 9.5)])
        state["team"][0]["ammo"] = 5
        for _ in range(300):
            feed(T, state, 0, T.bot_input(state, 0))
            T.step(state)
        self.assertEqual(state["team"][0]["ammo"], 5 + rules.AMMO_PICKUP)

    def test_a_downed_or_absent_player_has_no_bot_input(self):
        state = siege(2)
        state["team"][0]["down"] = True
        T.forfeit(state, 1)
        self.assertIsNone(T.bot_input(state, 0))
        self.assertIsNone(T.bot_input(state, 1))

    def test_a_bot_team_plays_waves_to_an_end_with_kills(self):
        for players, index in ((1, 0), (4, 0), (4, 1)):
            with self.subTest(players=players, map=index):
                settings = {"waves": 3, "map": index, "difficulty": 1}
                state, _ = run_bots(T, players=players, seed=players + index, settings=settings)
                self.assertTrue(T.is_finished(state))
                result = T.result(state)
                self.assertGreaterEqual(state["wave"], 2)
                self.assertGreater(sum(result["scores"]), 10)
                self.assertIn(result["reason"], ("waves_cleared", "all_down"))


def rules_error() -> float:
    return bot.AIM_ERROR + 1e-9
