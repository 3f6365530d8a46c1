"""How the load tool plays Zombie Siege (loadtest.py): valid inputs, and `shows` tells when
a snapshot carries the walk that was sent."""

import random
import unittest

from matches.titles.zombie import loadtest
from tests.matches.titles.zombie.test_rules import T, siege


class ZombiePolicyTests(unittest.TestCase):
    def test_the_policy_sends_valid_inputs_that_a_snapshot_then_shows(self):
        rng = random.Random(3)
        state = siege(team=[(12.5, 7.5)], zombies=[(20.5, 7.5)])
        for _ in range(30):
            sent = loadtest.POLICY.decide(T.snapshot(state), 0, rng)
            self.assertEqual(T.validate_input(sent), sent)
            self.assertEqual(sent["fire"], bool(state["zombies"]))  # at any zombie up
            T.apply_input(state, 0, sent)
            T.step(state)
            self.assertTrue(loadtest.POLICY.shows(T.snapshot(state), 0, sent))
            self.assertEqual(loadtest.POLICY.measured(sent), (sent["mx"], sent["my"]))

    def test_a_downed_player_sends_nothing_and_cannot_tell(self):
        state = siege()
        state["team"][0]["down"] = True
        snap = T.snapshot(state)
        self.assertIsNone(loadtest.POLICY.decide(snap, 0, random.Random(1)))
        self.assertIsNone(loadtest.POLICY.shows(snap, 0, {"mx": 0, "my": 0}))

    def test_the_long_match_settings_are_valid(self):
        T.validate_settings(loadtest.LONG_MATCH)
