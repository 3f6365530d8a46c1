"""Rules of Snake."""

from __future__ import annotations

import math
import unittest

from hypothesis import given
from hypothesis import strategies as st

from matches.titles import InputError, SettingsError
from matches.titles.snake import TITLE
from matches.titles.snake import rules as S
from tests.matches.titles.helpers import (
    PROPERTY,
    assert_plain_json,
    feed,
    json_values,
    roundtrip,
    run_bots,
    seeds,
)

T = TITLE
W = 16


def new(players=2, seed=1, **settings):
    settings.setdefault("max_players", 8)
    return T.initial_state(players=players, seed=seed, settings=settings)


def board(*snakes, food=(), w=W, h=W, time_limit_s=180):
    """A hand-made position: each snake is ``(cells [(x, y)...] head first, dir)``."""
    state = new(players=max(2, len(snakes)), width=w, height=h, time_limit_s=time_limit_s, seed=3)
    state["snakes"] = [
        {
            "body": [y * w + x for x, y in cells],
            "dir": d,
            "next": d,
            "alive": True,
            "eaten": 0,
            "died_at": None,
            "cause": None,
        }
        for cells, d in snakes
    ]
    state["food"] = [y * w + x for x, y in food]
    state["food_target"] = len(state["food"])
    return state


def cells(state, i):
    w = state["w"]
    return [(c % w, c // w) for c in state["snakes"][i]["body"]]


def horizontal(x, y, length=3, d="right"):
    step = -1 if d == "right" else 1
    return [(x + step * k, y) for k in range(length)], d


def vertical(x, y, length=3, d="down"):
    step = -1 if d == "down" else 1
    return [(x, y + step * k) for k in range(length)], d


class SnakeSetupTests(unittest.TestCase):
    def test_the_title_is_described_by_its_class_attributes(self):
        self.assertEqual(
            (T.name, T.label, T.version, T.tick_hz, T.min_players, T.max_players),
            ("snake", "Snake", 1, 10, 2, 8),
        )
        self.assertFalse(T.pauses_on_disconnect)

    def test_snakes_start_spread_out_with_length_three_even_on_the_smallest_grid(self):
        for players in range(2, 9):
            for seed in range(6):
                state = new(players, seed, width=16, height=16)
                bodies = [cells(state, i) for i in range(players)]
                all_cells = [c for b in bodies for c in b]
                self.assertEqual(len(all_cells), len(set(all_cells)))
                for b in bodies:
                    self.assertEqual(len(b), 3)
                    for x, y in b:
                        self.assertTrue(0 <= x < 16 and 0 <= y < 16)
                # Nobody dies in the first three ticks of going straight.
                for _ in range(3):
                    T.step(state)
                self.assertTrue(all(s["alive"] for s in state["snakes"]), (players, seed))

    def test_the_start_layout_is_deterministic_from_the_seed(self):
        self.assertEqual(new(4, 99), new(4, 99))
        layouts = {str([s["body"] for s in new(4, seed)["snakes"]]) for seed in range(10)}
        self.assertGreater(len(layouts), 3)

    def test_there_is_one_food_per_player_on_free_cells(self):
        state = new(5, 8)
        self.assertEqual(len(state["food"]), 5)
        self.assertEqual(len(set(state["food"])), 5)
        bodies = {c for s in state["snakes"] for c in s["body"]}
        self.assertFalse(bodies & set(state["food"]))

    def test_the_initial_state_is_plain_json(self):
        assert_plain_json(self, new(8))
        self.assertEqual(roundtrip(new(8)), new(8))

    def test_the_player_count_must_fit_the_settings(self):
        for players in (1, 9, True):
            with self.subTest(players=players), self.assertRaises(SettingsError):
                new(players)
        with self.assertRaises(SettingsError):
            T.initial_state(players=5, seed=1, settings={"max_players": 4})


class SnakeSettingsTests(unittest.TestCase):
    def test_missing_settings_get_their_defaults(self):
        self.assertEqual(
            T.validate_settings({}),
            {"max_players": 4, "width": 32, "height": 32, "time_limit_s": 180},
        )

    def test_each_kind_of_bad_setting_is_refused_naming_the_field(self):
        cases = {
            "unknown": {"colour": "red"},
            "string": {"width": "32"},
            "bool": {"height": False},
            "float": {"width": 20.5},
            "nan": {"time_limit_s": math.nan},
            "inf": {"time_limit_s": math.inf},
            "too small": {"width": 15},
            "too big": {"height": 65},
            "too short": {"time_limit_s": 29},
            "too long": {"time_limit_s": 601},
            "too few players": {"max_players": 1},
            "too many players": {"max_players": 9},
        }
        for case, raw in cases.items():
            with self.subTest(case), self.assertRaises(SettingsError) as ctx:
                T.validate_settings(raw)
            self.assertEqual(ctx.exception.field, next(iter(raw)))
            self.assertIn(next(iter(raw)), ctx.exception.reason)

    def test_the_schema_lists_every_field(self):
        schema = T.settings_schema()
        self.assertEqual(list(schema), ["max_players", "width", "height", "time_limit_s"])
        self.assertEqual(schema["width"], {**schema["width"], "min": 16, "max": 64, "default": 32})
        self.assertEqual(schema["max_players"]["default"], 4)


class SnakeInputTests(unittest.TestCase):
    def test_the_four_directions_are_accepted(self):
        for d in S.DIRS:
            self.assertEqual(T.validate_input({"turn": d}), {"turn": d})

    def test_bad_payloads_are_refused(self):
        cases = [
            None,
            "up",
            ["up"],
            {},
            {"turn": "UP"},
            {"turn": "north"},
            {"turn": 1},
            {"turn": True},
            {"turn": None},
            {"turn": math.nan},
            {"turn": "up", "boost": True},
        ]
        for payload in cases:
            with self.subTest(payload=payload), self.assertRaises(InputError) as ctx:
                T.validate_input(payload)
            self.assertEqual(ctx.exception.code, "bad_input")

    @PROPERTY
    @given(json_values)
    def test_any_json_payload_is_either_accepted_or_refused_cleanly(self, payload):
        try:
            inp = T.validate_input(payload)
        except InputError:
            return
        self.assertEqual(T.validate_input(inp), inp)

    def test_an_unknown_slot_is_refused(self):
        with self.assertRaises(InputError):
            T.apply_input(new(2), 5, {"turn": "up"})


class SnakeMovementTests(unittest.TestCase):
    def test_a_snake_moves_one_cell_per_tick_in_its_direction(self):
        state = board(horizontal(5, 5), horizontal(5, 10))
        T.step(state)
        self.assertEqual(cells(state, 0), [(6, 5), (5, 5), (4, 5)])

    def test_a_turn_takes_effect_on_the_next_step(self):
        state = board(horizontal(5, 5), horizontal(5, 10))
        feed(T, state, 0, {"turn": "up"})
        T.step(state)
        self.assertEqual(cells(state, 0)[0], (5, 4))
        self.assertEqual(state["snakes"][0]["dir"], "up")

    def test_turning_back_into_itself_is_ignored(self):
        state = board(horizontal(5, 5), horizontal(5, 10))
        feed(T, state, 0, {"turn": "left"})
        T.step(state)
        self.assertEqual(cells(state, 0)[0], (6, 5))
        self.assertTrue(state["snakes"][0]["alive"])

    def test_at_most_one_turn_per_step_the_latest_valid_one(self):
        # Moving right: "up" then "left" within one tick would reverse; "left" is refused.
        state = board(horizontal(5, 5), horizontal(5, 10))
        feed(T, state, 0, {"turn": "up"})
        feed(T, state, 0, {"turn": "left"})
        T.step(state)
        self.assertEqual(cells(state, 0)[0], (5, 4))
        # "up" then "down": both valid against the current direction, the latest wins.
        state = board(horizontal(5, 5), horizontal(5, 10))
        feed(T, state, 0, {"turn": "up"})
        feed(T, state, 0, {"turn": "down"})
        T.step(state)
        self.assertEqual(cells(state, 0)[0], (5, 6))

    def test_inputs_for_a_dead_snake_are_ignored(self):
        state = board(horizontal(5, 5), horizontal(5, 10), horizontal(5, 12))
        state["snakes"][0]["alive"] = False
        feed(T, state, 0, {"turn": "up"})
        self.assertEqual(state["snakes"][0]["next"], "right")

    def test_eating_grows_the_snake_by_one_and_scores(self):
        state = board(horizontal(5, 5), horizontal(5, 10), food=[(6, 5), (0, 0)])
        T.step(state)
        self.assertEqual(cells(state, 0), [(6, 5), (5, 5), (4, 5), (3, 5)])
        self.assertEqual(state["snakes"][0]["eaten"], 1)
        self.assertEqual(T.result(state)["scores"], [1, 0])
        self.assertIn({"e": "eat", "slot": 0}, state["events"])
        T.step(state)
        self.assertEqual(len(cells(state, 0)), 4)

    def test_eaten_food_respawns_on_a_free_cell(self):
        state = board(horizontal(5, 5), horizontal(5, 10), food=[(6, 5), (0, 0)])
        T.step(state)
        self.assertEqual(len(state["food"]), 2)
        self.assertIn(0, state["food"])
        taken = {c for s in state["snakes"] for c in s["body"]}
        self.assertFalse(taken & set(state["food"]))

    def test_food_respawns_on_the_only_free_cell_left(self):
        w = 16
        food, free = (1, 0), (9, 9)
        everything = [(x, y) for y in range(w) for x in range(w)]
        body = [(0, 0)] + [c for c in everything if c not in ((0, 0), food, free)]
        state = board((body, "right"), ([(9, 9)], "up"), food=[food])
        state["snakes"][1]["alive"] = False
        state["snakes"][1]["died_at"] = 0
        T.step(state)
        self.assertTrue(state["snakes"][0]["alive"])
        self.assertEqual(state["food"], [free[1] * w + free[0]])


class SnakeCollisionTests(unittest.TestCase):
    def test_hitting_a_wall_kills(self):
        state = board(horizontal(15, 5), horizontal(5, 10), horizontal(5, 12))
        T.step(state)
        self.assertFalse(state["snakes"][0]["alive"])
        self.assertEqual(state["snakes"][0]["cause"], "wall")
        self.assertEqual(state["snakes"][0]["died_at"], 1)

    def test_hitting_its_own_body_kills(self):
        body = [(5, 5), (5, 6), (6, 6), (6, 5), (6, 4)]  # head turns right into its body
        state = board((body, "up"), horizontal(5, 10), horizontal(5, 12))
        feed(T, state, 0, {"turn": "right"})
        T.step(state)
        self.assertEqual(state["snakes"][0]["cause"], "self")

    def test_hitting_another_snakes_body_kills(self):
        state = board(vertical(5, 4), horizontal(6, 5), horizontal(5, 12))
        T.step(state)
        self.assertFalse(state["snakes"][0]["alive"])
        self.assertEqual(state["snakes"][0]["cause"], "snake")
        self.assertTrue(state["snakes"][1]["alive"])
        self.assertIn({"e": "die", "slot": 0, "cause": "snake", "by": 1}, state["events"])

    def test_heads_moving_into_the_same_cell_both_die(self):
        state = board(horizontal(4, 5), horizontal(6, 5, d="left"), horizontal(5, 12))
        T.step(state)
        self.assertEqual([s["cause"] for s in state["snakes"]], ["head", "head", None])

    def test_heads_swapping_cells_both_die(self):
        state = board(horizontal(4, 5), horizontal(5, 5, d="left"), horizontal(5, 12))
        T.step(state)
        self.assertFalse(state["snakes"][0]["alive"])
        self.assertFalse(state["snakes"][1]["alive"])

    def test_moving_into_a_tail_that_moves_away_in_the_same_tick_is_safe(self):
        # Snake 0's head enters (6, 5) just as snake 1's tail leaves it.
        state = board(horizontal(5, 5), horizontal(8, 5), horizontal(5, 12))
        T.step(state)
        self.assertTrue(all(s["alive"] for s in state["snakes"]))
        self.assertEqual(cells(state, 0)[0], (6, 5))

    def test_a_tail_that_stays_because_its_snake_eats_still_kills(self):
        # Snake 1's tail at (6, 5) stays because it eats; snake 0 moves into (6, 5).
        state = board(vertical(6, 4, d="down"), horizontal(8, 5), horizontal(5, 12), food=[(9, 5)])
        T.step(state)
        self.assertEqual(state["snakes"][0]["cause"], "snake")
        self.assertEqual(state["snakes"][1]["eaten"], 1)

    def test_a_dead_snake_is_no_longer_an_obstacle(self):
        state = board(horizontal(3, 5), horizontal(5, 10), vertical(5, 4, d="up"))
        state["snakes"][2]["alive"] = False
        state["snakes"][2]["died_at"] = 0
        for _ in range(4):
            T.step(state)
        self.assertTrue(state["snakes"][0]["alive"])


class SnakeEndTests(unittest.TestCase):
    def test_the_last_snake_standing_wins(self):
        state = board(horizontal(15, 5), horizontal(5, 10, length=3))
        state["snakes"][0]["eaten"] = 9
        T.step(state)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual((result["winner"], result["ranking"]), (1, [1, 0]))
        self.assertEqual(result["reason"], "last_standing")
        self.assertEqual(result["scores"], [9, 0])

    def test_when_all_die_in_the_same_tick_the_longest_wins(self):
        state = board(horizontal(15, 5, length=5), horizontal(15, 10, length=3))
        T.step(state)
        result = T.result(state)
        self.assertEqual(result["reason"], "all_dead")
        self.assertEqual(result["winner"], 0)

    def test_when_all_die_in_the_same_tick_with_equal_lengths_it_is_a_draw(self):
        state = board(horizontal(4, 5), horizontal(6, 5, d="left"))
        T.step(state)
        result = T.result(state)
        self.assertIsNone(result["winner"])
        self.assertIn("draw", result["summary"])

    def test_snakes_dying_later_rank_higher(self):
        state = board(horizontal(15, 5, length=6), horizontal(13, 7), horizontal(5, 12))
        T.step(state)
        self.assertFalse(T.is_finished(state))
        T.step(state)
        T.step(state)
        self.assertTrue(T.is_finished(state))
        self.assertEqual(T.result(state)["ranking"], [2, 1, 0])

    def test_when_time_is_up_the_longest_alive_snake_wins(self):
        state = board(vertical(3, 3), vertical(8, 3, length=4), time_limit_s=30)
        state["end_tick"] = 5
        for _ in range(5):
            T.step(state)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual((result["winner"], result["reason"]), (1, "time_up"))

    def test_when_time_is_up_with_equal_lengths_it_is_a_draw(self):
        state = board(vertical(3, 3), vertical(8, 3), time_limit_s=30)
        state["end_tick"] = 2
        T.step(state)
        T.step(state)
        self.assertTrue(T.is_finished(state))
        self.assertIsNone(T.result(state)["winner"])

    def test_the_default_time_limit_is_three_minutes_of_ticks(self):
        self.assertEqual(new(2)["end_tick"], 1800)
        self.assertEqual(T.snapshot(new(2))["ticks_left"], 1800)

    def test_a_finished_match_ignores_steps_and_inputs(self):
        state = board(horizontal(15, 5), horizontal(5, 10))
        T.step(state)
        before = roundtrip(state)
        feed(T, state, 1, {"turn": "up"})
        T.step(state)
        T.forfeit(state, 1)
        self.assertEqual(state, before)


class SnakeForfeitTests(unittest.TestCase):
    def test_a_forfeit_kills_the_snake_and_is_recorded(self):
        state = new(3)
        T.forfeit(state, 1)
        self.assertFalse(state["snakes"][1]["alive"])
        self.assertFalse(T.is_finished(state))
        T.forfeit(state, 0)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual(result["winner"], 2)
        self.assertEqual(result["forfeited"], [1, 0])
        self.assertEqual(result["ranking"][0], 2)

    def test_forfeiting_a_dead_snake_changes_nothing(self):
        state = board(horizontal(15, 5), horizontal(5, 10), horizontal(5, 12))
        T.step(state)
        T.forfeit(state, 0)
        self.assertEqual(state["forfeited"], [])


class SnakeSnapshotTests(unittest.TestCase):
    def test_the_snapshot_has_what_a_renderer_needs(self):
        state = board(horizontal(5, 5), horizontal(5, 10), food=[(1, 2)])
        T.step(state)
        snap = T.snapshot(state)
        assert_plain_json(self, snap, "snapshot")
        self.assertEqual((snap["tick"], snap["w"], snap["h"]), (1, 16, 16))
        self.assertEqual(snap["food"], [[1, 2]])
        self.assertEqual(
            snap["snakes"][0],
            {"body": [[6, 5], [5, 5], [4, 5]], "dir": "right", "alive": True, "len": 3, "score": 0},
        )
        self.assertEqual(snap["scores"], [0, 0])
        for key in ("ticks_left", "finished", "winner", "events"):
            self.assertIn(key, snap)


def play(seed, players, moves, check, size=16):
    """Each move gives every slot a turn (or None = bot) for three ticks."""
    state = new(players, seed, width=size, height=size, time_limit_s=30)
    for move in moves:
        for slot in range(players):
            d = move[slot % len(move)]
            inp = T.bot_input(state, slot) if d is None else {"turn": d}
            if inp is not None:
                feed(T, state, slot, inp)
        for _ in range(3):
            T.step(state)
            check(state)
    return state


moves = st.lists(
    st.lists(st.sampled_from([None, None, None, None, *S.DIRS]), min_size=1, max_size=4),
    min_size=20,
    max_size=100,
)


class SnakePropertyTests(unittest.TestCase):
    @PROPERTY
    @given(seeds, st.integers(2, 8), moves)
    def test_snakes_never_shrink_and_scores_never_go_down(self, seed, players, moves):
        seen = {}

        def check(state):
            for i, s in enumerate(state["snakes"]):
                prev = seen.get(i)
                if prev is not None:
                    self.assertGreaterEqual(len(s["body"]), prev[0])
                    self.assertGreaterEqual(s["eaten"], prev[1])
                    if not prev[2]:
                        self.assertFalse(s["alive"])
                self.assertEqual(len(s["body"]), S.START_LENGTH + s["eaten"])
                seen[i] = (len(s["body"]), s["eaten"], s["alive"])
            alive_cells = [c for s in state["snakes"] if s["alive"] for c in s["body"]]
            self.assertEqual(len(alive_cells), len(set(alive_cells)))
            self.assertFalse(set(alive_cells) & set(state["food"]))

        play(seed, players, moves, check)

    @PROPERTY
    @given(seeds, st.integers(2, 8), moves)
    def test_a_finished_match_stays_finished_with_the_same_result(self, seed, players, moves):
        seen = {}

        def check(state):
            if "result" in seen:
                self.assertTrue(T.is_finished(state))
                self.assertEqual(T.result(state), seen["result"])
            elif T.is_finished(state):
                seen["result"] = T.result(state)

        state = play(seed, players, moves, check)
        for _ in range(10):
            T.step(state)
            check(state)

    @PROPERTY
    @given(seeds, st.integers(2, 8), moves)
    def test_the_same_seed_and_inputs_give_the_same_states_across_json_round_trips(
        self, seed, players, moves
    ):
        a = new(players, seed, width=16, height=16, time_limit_s=30)
        b = roundtrip(a)
        for move in moves:
            for slot in range(players):
                d = move[slot % len(move)]
                inp_a = T.bot_input(a, slot) if d is None else {"turn": d}
                inp_b = T.bot_input(b, slot) if d is None else {"turn": d}
                self.assertEqual(inp_a, inp_b)
                if inp_a is not None:
                    feed(T, a, slot, inp_a)
                    feed(T, b, slot, inp_b)
            for _ in range(3):
                T.step(a)
                b = roundtrip(T.step(b))
                self.assertEqual(a, b)
        self.assertEqual(T.result(a), T.result(b))

    @PROPERTY
    @given(seeds, st.integers(2, 8))
    def test_bots_only_produce_valid_inputs_and_their_snakes_never_shrink(self, seed, players):
        lengths = [S.START_LENGTH] * players

        def check(state, inputs):
            for inp in inputs.values():
                self.assertEqual(T.validate_input(inp), inp)
            for i, s in enumerate(state["snakes"]):
                self.assertGreaterEqual(len(s["body"]), lengths[i])
                lengths[i] = len(s["body"])

        run_bots(
            T,
            players=players,
            seed=seed,
            settings={"max_players": 8, "width": 16, "height": 16, "time_limit_s": 30},
            on_tick=check,
        )


if __name__ == "__main__":
    unittest.main()
