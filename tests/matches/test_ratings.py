from django.test import SimpleTestCase, TestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from matches import ratings, replay, services
from matches.errors import IllegalTransition
from matches.models import Rating
from tests.support.matches import counting_down


class EloTests(SimpleTestCase):
    def test_the_winner_of_an_even_duel_gains_half_of_k(self):
        new = ratings.updated({0: 1200.0, 1: 1200.0}, {0: 1.0, 1: 0.0})
        self.assertAlmostEqual(new[0], 1216.0)
        self.assertAlmostEqual(new[1], 1184.0)

    def test_beating_a_stronger_player_gains_more_than_beating_a_weaker_one(self):
        up = ratings.updated({0: 1200.0, 1: 1400.0}, {0: 1, 1: 0})[0] - 1200
        down = ratings.updated({0: 1200.0, 1: 1000.0}, {0: 1, 1: 0})[0] - 1200
        self.assertGreater(up, down)

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(st.floats(400, 2800), min_size=2, max_size=8),
        st.lists(st.integers(0, 3), min_size=8, max_size=8),
    )
    def test_ratings_are_conserved_and_the_best_placed_never_loses(self, values, places):
        before = dict(enumerate(values))
        scores = {slot: places[slot] for slot in before}
        after = ratings.updated(before, scores)
        self.assertAlmostEqual(sum(after.values()), sum(before.values()), places=6)
        best = max(scores.values())
        for slot, score in scores.items():
            if score == best and list(scores.values()).count(best) == 1:
                self.assertGreaterEqual(after[slot], before[slot])


class FinishRatesAndRecordsTests(TestCase):
    def _running(self, **kwargs):
        match = counting_down(**kwargs)
        return services.match_begin(match_id=match.pk)

    def test_finishing_a_match_between_humans_moves_their_ratings_once(self):
        match = self._running()
        result = {"scores": [2, 1], "winner": 0, "ranking": [0, 1], "summary": "2-1"}
        services.match_finish(match_id=match.pk, result=result)
        with self.assertRaises(IllegalTransition):
            services.match_finish(match_id=match.pk, result=result)  # a retried finish
        rows = {r.player.display_name: r for r in Rating.objects.filter(title="pong")}
        self.assertAlmostEqual(rows["ann"].rating, 1216.0)
        self.assertAlmostEqual(rows["bob"].rating, 1184.0)
        self.assertEqual((rows["ann"].games, rows["ann"].wins, rows["bob"].losses), (1, 1, 1))

    def test_a_draw_counts_as_a_draw_for_both(self):
        match = self._running()
        services.match_finish(match_id=match.pk, result={"scores": [1, 1], "winner": None})
        self.assertEqual(sorted(Rating.objects.values_list("draws", flat=True)), [1, 1])
        self.assertEqual(set(Rating.objects.values_list("rating", flat=True)), {1200.0})

    def test_matches_against_bots_are_not_rated(self):
        match = self._running(names=("solo",), fill_with_bots=True)
        services.match_finish(match_id=match.pk, result={"scores": [1, 0], "winner": 0})
        self.assertFalse(Rating.objects.exists())

    def test_finishing_with_the_input_log_stores_the_replay(self):
        match = self._running()
        log = [[0, [["i", 0, {"dir": 1}]]], [7, [["f", 1]]]]
        match = services.match_finish(
            match_id=match.pk, result={"scores": [0, 0], "winner": 0}, replay_log=log,
            final_tick=7,
        )  # fmt: skip
        self.assertEqual(replay.unpack_log(match.replay.log), log)
        self.assertEqual((match.replay.ticks, match.replay.inputs), (7, 2))
