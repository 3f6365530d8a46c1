"""The quick-play simulation on the real script and Redis: by rating, matches are closer than
first come, for a modest wait; the command prints both."""

from io import StringIO

from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

from realtime import store
from realtime.dev import qpsim
from tests.support.stack import flush_redis


@override_settings(QUICKPLAY_BOT_AFTER_S=3.0, QUICKPLAY_RATING_WINDOW=100.0,
                   QUICKPLAY_WINDOW_GROWTH_PER_S=100.0, QUICKPLAY_GATHER_S=2.0)  # fmt: skip
class SimulationTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_by_rating_halves_the_gap_of_first_come_pairs_for_a_short_wait(self):
        skills = qpsim.population(300, seed=7)
        first = qpsim.run(skills=skills, per_s=5, seats=2, by_rating=False, seed=7).row()
        rated = qpsim.run(skills=skills, per_s=5, seats=2, by_rating=True, seed=7).row()
        print(f"\n  quick play, 300 players at 5/s: {first}\n  {rated}")
        self.assertLess(rated["mean_gap"], first["mean_gap"] * 0.5)
        self.assertGreater(first["mean_gap"], 150)  # sd 200: random pairs are ~226 apart
        self.assertLessEqual(rated["max_wait_s"], 3.0)  # bots by then, as configured
        self.assertLess(rated["mean_wait_s"], 1.0)
        self.assertLess(rated["with_bots_pct"], 5)
        # Everyone was placed once, and the simulation left no keys behind.
        few = qpsim.run(skills=skills[:50], per_s=5, seats=2, by_rating=True, seed=1)
        self.assertEqual(len(few.waits), 50)
        self.assertTrue(all(w >= 0 for w in few.waits))
        self.assertEqual(store.client().keys("mm:*"), [])

    def test_a_many_seat_title_fills_bands(self):
        skills = qpsim.population(200, seed=3)
        rated = qpsim.run(skills=skills, per_s=20, seats=4, by_rating=True, seed=3).row()
        self.assertLess(rated["matches"], 200 / 3)  # mostly full bands of 4, not pairs

    def test_the_command_prints_both_modes(self):
        out = StringIO()
        call_command("simulate_quickplay", "--players", "100", "--per-s", "5", stdout=out)
        text = out.getvalue()
        self.assertIn("5.0 | first come | ", text)
        self.assertIn("5.0 | by rating | ", text)
