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


places_st = st.lists(st.integers(0, 5), min_size=2, max_size=64)


def fresh(n: int) -> dict[int, ratings.Skill]:
    return {slot: ratings.initial(ratings.OPENSKILL) for slot in range(n)}


class OpenSkillTests(SimpleTestCase):
    def test_a_new_player_starts_at_mu_1200_and_a_conservative_zero(self):
        skill = ratings.initial(ratings.OPENSKILL)
        self.assertEqual((skill.mu, skill.sigma), (1200.0, 400.0))
        self.assertAlmostEqual(skill.shown, 0.0)
        self.assertEqual(ratings.initial(ratings.ELO), ratings.Skill(1200.0, None))

    def test_an_eight_player_ranking_orders_the_new_estimates_and_shrinks_every_sigma(self):
        places = {slot: -slot for slot in range(8)}  # slot 0 first, slot 7 last
        new = ratings.rate(ratings.OPENSKILL, fresh(8), places)
        mus = [new[slot].mu for slot in range(8)]
        self.assertEqual(mus, sorted(mus, reverse=True))
        self.assertGreater(new[0].mu, 1200)
        self.assertLess(new[7].mu, 1200)
        self.assertTrue(all(new[slot].sigma < 400 for slot in range(8)))

    def test_a_tie_moves_tied_equals_alike(self):
        new = ratings.rate(ratings.OPENSKILL, fresh(3), {0: 1, 1: 1, 2: 0})
        self.assertAlmostEqual(new[0].mu, new[1].mu)
        self.assertGreater(new[0].mu, new[2].mu)

    def test_an_upset_moves_more_than_the_expected_result(self):
        strong = ratings.Skill(1500.0, 100.0)
        weak = ratings.Skill(1000.0, 100.0)
        upset = ratings.rate(ratings.OPENSKILL, {0: strong, 1: weak}, {0: 0, 1: 1})
        expected = ratings.rate(ratings.OPENSKILL, {0: strong, 1: weak}, {0: 1, 1: 0})
        self.assertGreater(upset[1].mu - 1000, expected[0].mu - 1500)

    def test_repeated_wins_raise_the_conservative_estimate_and_certainty(self):
        skills = fresh(2)
        shown, sigmas = [], []
        for _ in range(20):
            skills = ratings.rate(ratings.OPENSKILL, skills, {0: 1, 1: 0})
            shown.append(skills[0].shown)
            sigmas.append(skills[0].sigma)
        self.assertEqual(shown, sorted(shown))
        self.assertEqual(sigmas, sorted(sigmas, reverse=True))
        self.assertLess(sigmas[-1], 0.8 * ratings.SIGMA)

    def test_unknown_systems_and_mismatched_slots_are_refused(self):
        with self.assertRaises(ValueError):
            ratings.rate("glicko", fresh(2), {0: 1, 1: 0})
        with self.assertRaises(ValueError):
            ratings.rate(ratings.OPENSKILL, fresh(2), {0: 1, 2: 0})
        with self.assertRaises(ValueError):
            ratings.rate(ratings.OPENSKILL, {0: ratings.Skill(1200.0), 1: ratings.Skill(1200.0)},
                         {0: 1, 1: 0})  # fmt: skip

    def test_one_player_is_left_as_they_were(self):
        self.assertEqual(ratings.rate(ratings.OPENSKILL, fresh(1), {0: 0}), fresh(1))

    @settings(max_examples=100, deadline=None)
    @given(places_st, st.randoms(use_true_random=False))
    def test_any_free_for_all_keeps_the_order_of_places_and_never_grows_a_sigma(self, places, rng):
        skills = {slot: ratings.Skill(rng.uniform(600, 1800), rng.uniform(50, 400))
                  for slot in range(len(places))}  # fmt: skip
        placed = dict(enumerate(places))
        new = ratings.rate(ratings.OPENSKILL, skills, placed)
        for slot, skill in new.items():
            self.assertLessEqual(skill.sigma, skills[slot].sigma + ratings.TAU)
            moved = skill.mu - skills[slot].mu
            if all(placed[slot] > v for o, v in placed.items() if o != slot):
                self.assertGreaterEqual(moved, 0)  # the outright winner never loses
            if all(placed[slot] < v for o, v in placed.items() if o != slot):
                self.assertLessEqual(moved, 0)  # the outright last never gains
        # Renumbering the slots changes nothing but the names.
        order = list(reversed(range(len(places))))
        renamed = ratings.rate(ratings.OPENSKILL, {i: skills[s] for i, s in enumerate(order)},
                               {i: placed[s] for i, s in enumerate(order)})  # fmt: skip
        for i, s in enumerate(order):
            self.assertAlmostEqual(renamed[i].mu, new[s].mu, places=6)

    def test_elo_through_rate_is_plain_elo(self):
        new = ratings.rate(ratings.ELO, {0: ratings.Skill(1200.0), 1: ratings.Skill(1200.0)},
                           {0: 1, 1: 0})  # fmt: skip
        self.assertEqual((new[0], new[1]), (ratings.Skill(1216.0), ratings.Skill(1184.0)))


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
