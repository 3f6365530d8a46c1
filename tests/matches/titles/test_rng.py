"""The deterministic PRNG whose state is one int."""

from __future__ import annotations

import json
import unittest
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from matches.titles import rng
from tests.matches.titles.helpers import PROPERTY, seeds


def sequence(s, n=20):
    out = []
    for _ in range(n):
        v, s = rng.next_u64(s)
        out.append(v)
    return out, s


class RngTests(unittest.TestCase):
    def test_the_same_seed_gives_the_same_sequence(self):
        self.assertEqual(sequence(rng.seed_state(42)), sequence(rng.seed_state(42)))

    def test_different_seeds_and_streams_give_different_sequences(self):
        firsts = {sequence(rng.seed_state(seed), 1)[0][0] for seed in range(1000)}
        self.assertEqual(len(firsts), 1000)
        self.assertNotEqual(rng.seed_state(7, 1), rng.seed_state(7, 2))

    def test_seeds_up_to_two_to_the_63_and_beyond_are_accepted(self):
        for seed in (0, 1, 2**63 - 1, 2**63, 2**64 + 5):
            s = rng.seed_state(seed)
            self.assertTrue(0 <= s < 2**64)
        self.assertNotEqual(rng.seed_state(5), rng.seed_state(2**64 + 5))

    def test_bad_seeds_are_refused(self):
        for seed in (-1, 1.5, True, "3", None):
            with self.subTest(seed=seed), self.assertRaises(ValueError):
                rng.seed_state(seed)

    def test_the_state_survives_a_json_round_trip(self):
        s = rng.seed_state(2**63)
        _, s = sequence(s, 5)
        restored = json.loads(json.dumps({"rng": s}))["rng"]
        self.assertEqual(sequence(restored), sequence(s))

    def test_random_is_in_the_unit_interval_and_roughly_uniform(self):
        s = rng.seed_state(1)
        buckets = Counter()
        for _ in range(10_000):
            r, s = rng.random(s)
            self.assertTrue(0.0 <= r < 1.0)
            buckets[int(r * 10)] += 1
        self.assertEqual(set(buckets), set(range(10)))
        self.assertTrue(all(850 < n < 1150 for n in buckets.values()), buckets)

    def test_randint_covers_both_bounds_evenly(self):
        s = rng.seed_state(9)
        counts = Counter()
        for _ in range(6000):
            v, s = rng.randint(s, -2, 3)
            counts[v] += 1
        self.assertEqual(set(counts), set(range(-2, 4)))
        self.assertTrue(all(850 < n < 1150 for n in counts.values()), counts)
        self.assertEqual(rng.randint(s, 4, 4), (4, s))
        with self.assertRaises(ValueError):
            rng.randint(s, 5, 4)

    def test_randint_handles_ranges_wider_than_64_bits(self):
        s = rng.seed_state(4)
        for width in (2**64, 2**64 + 1, 2**100):
            v, s = rng.randint(s, -5, width)
            self.assertTrue(-5 <= v <= width)
        values = set()
        for _ in range(50):
            v, s = rng.randint(s, 0, 2**70)
            values.add(v >> 64)
        self.assertGreater(len(values), 30)  # the high bits are random too

    def test_choice_and_shuffle_are_deterministic_permutations(self):
        s = rng.seed_state(3)
        items = list(range(10))
        shuffled, s2 = rng.shuffled(s, items)
        self.assertEqual(sorted(shuffled), items)
        self.assertNotEqual(shuffled, items)
        self.assertEqual(rng.shuffled(s, items), (shuffled, s2))
        self.assertEqual(items, list(range(10)))
        value, _ = rng.choice(s, "abc")
        self.assertIn(value, "abc")

    def test_the_state_dict_helpers_advance_the_stored_state(self):
        state = {"rng": rng.seed_state(1)}
        a = rng.draw_uniform(state, 2.0, 3.0)
        b = rng.draw_randint(state, 1, 6)
        self.assertTrue(2.0 <= a < 3.0)
        self.assertTrue(1 <= b <= 6)
        expected_a, s = rng.uniform(rng.seed_state(1), 2.0, 3.0)
        self.assertEqual((a, state["rng"]), (expected_a, rng.randint(s, 1, 6)[1]))

    def test_hashing_is_stateless_and_deterministic(self):
        self.assertEqual(rng.hash_u64(1, 2, 3), rng.hash_u64(1, 2, 3))
        self.assertNotEqual(rng.hash_u64(1, 2, 3), rng.hash_u64(1, 3, 2))
        self.assertTrue(0.0 <= rng.hash_unit(5, 6) < 1.0)

    @PROPERTY
    @given(seeds, st.integers(-(2**70), 2**70), st.integers(0, 2**70))
    def test_randint_stays_within_any_bounds(self, seed, a, width):
        v, s = rng.randint(rng.seed_state(seed), a, a + width)
        self.assertTrue(a <= v <= a + width)
        self.assertTrue(0 <= s < 2**64)

    @PROPERTY
    @given(seeds, st.floats(-1e9, 1e9), st.floats(0, 1e9))
    def test_uniform_stays_within_its_bounds(self, seed, a, width):
        v, _ = rng.uniform(rng.seed_state(seed), a, a + width)
        self.assertTrue(a <= v <= a + width)


if __name__ == "__main__":
    unittest.main()
