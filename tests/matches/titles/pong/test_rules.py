"""Rules of Pong."""

from __future__ import annotations

import json
import math
import unittest

from hypothesis import given
from hypothesis import strategies as st

from matches.titles import InputError, SettingsError
from matches.titles.pong import TITLE
from matches.titles.pong import rules as P
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


def new(seed=1, **settings):
    return T.initial_state(players=2, seed=seed, settings=settings)


def in_play(state, *, x, y, vx, vy):
    """Put the ball in play at a given position and velocity (units per tick)."""
    state["serve_in"] = 0
    state["ball"] = {"x": x, "y": y, "vx": vx, "vy": vy, "speed": math.hypot(vx, vy)}
    return state


def step_until(state, predicate, limit=500):
    for _ in range(limit):
        T.step(state)
        if predicate(state):
            return state
    raise AssertionError("condition never reached")


class PongSetupTests(unittest.TestCase):
    def test_the_title_is_described_by_its_class_attributes(self):
        self.assertEqual(
            (T.name, T.label, T.version, T.tick_hz, T.min_players, T.max_players),
            ("pong", "Pong", 1, 30, 2, 2),
        )
        self.assertTrue(T.pauses_on_disconnect)

    def test_paddles_start_centred_and_the_ball_waits_for_the_serve(self):
        state = new()
        self.assertEqual(state["tick"], 0)
        self.assertEqual([p["y"] for p in state["paddles"]], [P.H / 2, P.H / 2])
        self.assertEqual((state["ball"]["vx"], state["ball"]["vy"]), (0.0, 0.0))
        self.assertEqual(state["serve_in"], P.FIRST_SERVE_TICKS)

    def test_the_initial_state_is_plain_json(self):
        assert_plain_json(self, new())
        self.assertEqual(roundtrip(new()), new())

    def test_only_two_players_can_play(self):
        for players in (1, 3, True, 2.0):
            with self.subTest(players=players), self.assertRaises(SettingsError):
                T.initial_state(players=players, seed=1, settings={})

    def test_a_negative_seed_is_refused(self):
        with self.assertRaises(SettingsError):
            T.initial_state(players=2, seed=-1, settings={})

    def test_the_step_increments_the_tick(self):
        state = new()
        T.step(state)
        T.step(state)
        self.assertEqual(state["tick"], 2)


class PongSettingsTests(unittest.TestCase):
    def test_missing_settings_get_their_defaults(self):
        self.assertEqual(T.validate_settings(None), {"max_players": 2, "score_to": 11})
        self.assertEqual(T.validate_settings({}), {"max_players": 2, "score_to": 11})
        self.assertEqual(T.validate_settings({"score_to": 5})["score_to"], 5)

    def test_an_unknown_setting_is_refused_with_its_name(self):
        with self.assertRaises(SettingsError) as ctx:
            T.validate_settings({"speed": 3})
        self.assertEqual(ctx.exception.code, "bad_settings")
        self.assertIn("speed", ctx.exception.reason)

    def test_a_setting_of_the_wrong_type_is_refused(self):
        for value in ("11", None, [11], 11.5, 11.0):
            with self.subTest(value=value), self.assertRaises(SettingsError) as ctx:
                T.validate_settings({"score_to": value})
            self.assertIn("score_to", ctx.exception.reason)

    def test_a_boolean_is_not_an_integer_setting(self):
        with self.assertRaises(SettingsError):
            T.validate_settings({"score_to": True})

    def test_non_finite_numbers_are_refused(self):
        for value in (math.nan, math.inf, -math.inf):
            with self.subTest(value=value), self.assertRaises(SettingsError):
                T.validate_settings({"score_to": value})

    def test_out_of_range_settings_are_refused(self):
        for value in (0, 22, -3):
            with self.subTest(value=value), self.assertRaises(SettingsError) as ctx:
                T.validate_settings({"score_to": value})
            self.assertIn("between 1 and 21", ctx.exception.reason)
        with self.assertRaises(SettingsError):
            T.validate_settings({"max_players": 3})

    def test_settings_must_be_an_object(self):
        for raw in ([], "x", 3):
            with self.subTest(raw=raw), self.assertRaises(SettingsError):
                T.validate_settings(raw)

    def test_the_schema_describes_every_field(self):
        schema = T.settings_schema()
        self.assertEqual(list(schema), ["max_players", "score_to"])
        self.assertEqual(schema["score_to"]["default"], 11)
        self.assertEqual((schema["score_to"]["min"], schema["score_to"]["max"]), (1, 21))
        self.assertEqual(schema["score_to"]["type"], "int")
        self.assertTrue(schema["score_to"]["label"])
        json.dumps(T.describe())


class PongInputTests(unittest.TestCase):
    def test_valid_inputs_are_normalised(self):
        for d in (-1, 0, 1):
            self.assertEqual(T.validate_input({"dir": d}), {"dir": d})

    def test_a_payload_that_is_not_an_object_is_refused(self):
        for payload in (None, [], "up", 1, 1.5, True):
            with self.subTest(payload=payload), self.assertRaises(InputError) as ctx:
                T.validate_input(payload)
            self.assertEqual(ctx.exception.code, "bad_input")

    def test_an_unknown_key_is_refused(self):
        with self.assertRaises(InputError) as ctx:
            T.validate_input({"dir": 1, "turbo": True})
        self.assertIn("turbo", ctx.exception.reason)

    def test_a_missing_direction_is_refused(self):
        with self.assertRaises(InputError):
            T.validate_input({})

    def test_a_boolean_is_not_a_direction(self):
        with self.assertRaises(InputError):
            T.validate_input({"dir": True})

    def test_an_out_of_range_or_non_integer_direction_is_refused(self):
        for d in (2, -2, 0.5, 1.0, math.nan, math.inf, "up", None):
            with self.subTest(d=d), self.assertRaises(InputError):
                T.validate_input({"dir": d})

    def test_an_unknown_slot_is_refused(self):
        with self.assertRaises(InputError):
            T.apply_input(new(), 2, {"dir": 1})

    @PROPERTY
    @given(json_values)
    def test_any_json_payload_is_either_accepted_or_refused_cleanly(self, payload):
        try:
            inp = T.validate_input(payload)
        except InputError:
            return
        self.assertEqual(T.validate_input(inp), inp)


class PongPaddleTests(unittest.TestCase):
    def test_a_held_direction_moves_the_paddle_at_a_fixed_speed(self):
        state = new()
        feed(T, state, 0, {"dir": 1})
        feed(T, state, 1, {"dir": -1})
        T.step(state)
        T.step(state)
        self.assertEqual(state["paddles"][0]["y"], P.H / 2 + 2 * P.PADDLE_SPEED)
        self.assertEqual(state["paddles"][1]["y"], P.H / 2 - 2 * P.PADDLE_SPEED)

    def test_releasing_the_direction_stops_the_paddle(self):
        state = new()
        feed(T, state, 0, {"dir": 1})
        T.step(state)
        feed(T, state, 0, {"dir": 0})
        T.step(state)
        self.assertEqual(state["paddles"][0]["y"], P.H / 2 + P.PADDLE_SPEED)

    def test_a_paddle_is_clamped_to_the_field(self):
        state = new()
        feed(T, state, 0, {"dir": -1})
        feed(T, state, 1, {"dir": 1})
        for _ in range(100):
            T.step(state)
        self.assertEqual(state["paddles"][0]["y"], P.PADDLE_H / 2)
        self.assertEqual(state["paddles"][1]["y"], P.H - P.PADDLE_H / 2)


def late_and_on_time(*, y: float, d0: int, d1: int, late: int):
    """The paddle of slot 0 at the tick an input of ``d1`` was applied ``late`` ticks after
    the tick it asked for, and the same paddle had it been applied at that tick; before it the
    paddle was at ``y`` moving ``d0``."""
    on_time = new()
    on_time["paddles"][0].update(y=y, dir=d0)
    delayed = roundtrip(on_time)
    feed(T, on_time, 0, {"dir": d1})
    for _ in range(late + 1):
        T.step(on_time)
    for _ in range(late):
        T.step(delayed)
    T.apply_late_input(delayed, 0, {"dir": d1}, late)
    T.step(delayed)
    return delayed["paddles"][0], on_time["paddles"][0]


class PongLateInputTests(unittest.TestCase):
    def test_a_late_input_moves_the_paddle_as_if_its_direction_was_held_since_it_was_due(self):
        state = new()
        T.apply_late_input(state, 0, {"dir": 1}, 3)
        self.assertEqual(state["paddles"][0], {"y": P.H / 2 + 3 * P.PADDLE_SPEED, "dir": 1})

    def test_a_late_reversal_takes_back_the_travel_it_was_late_for(self):
        state = new()
        state["paddles"][1].update(y=200.0, dir=1)
        T.apply_late_input(state, 1, {"dir": -1}, 2)
        self.assertEqual(state["paddles"][1], {"y": 200.0 - 4 * P.PADDLE_SPEED, "dir": -1})

    def test_a_late_input_leaves_the_other_paddle_and_the_ball_alone(self):
        state = in_play(new(), x=400.0, y=250.0, vx=5.0, vy=1.0)
        before = roundtrip(state)
        T.apply_late_input(state, 0, {"dir": -1}, 5)
        self.assertEqual(state["paddles"][1], before["paddles"][1])
        self.assertEqual(state["ball"], before["ball"])

    def test_a_late_input_stops_the_paddle_at_the_walls(self):
        state = new()
        state["paddles"][0]["y"] = P.HALF + 5.0
        T.apply_late_input(state, 0, {"dir": -1}, 8)
        state["paddles"][1]["y"] = P.H - P.HALF - 5.0
        T.apply_late_input(state, 1, {"dir": 1}, 8)
        self.assertEqual([p["y"] for p in state["paddles"]], [P.HALF, P.H - P.HALF])

    def test_a_finished_match_or_a_forfeited_slot_ignores_a_late_input(self):
        state = T.forfeit(new(), 1)
        before = roundtrip(state)
        for slot in (0, 1):
            T.apply_late_input(state, slot, {"dir": 1}, 4)
        self.assertEqual(state, before)

    def test_an_unknown_slot_is_refused(self):
        with self.assertRaises(InputError):
            T.apply_late_input(new(), 2, {"dir": 1}, 1)

    @PROPERTY
    @given(st.floats(P.HALF + 170.0, P.H - P.HALF - 170.0), st.sampled_from((-1, 0, 1)),
           st.sampled_from((-1, 0, 1)), st.integers(1, 8))  # fmt: skip
    def test_away_from_the_walls_late_is_where_on_time_would_have_been(self, y, d0, d1, late):
        delayed, on_time = late_and_on_time(y=y, d0=d0, d1=d1, late=late)
        self.assertEqual(delayed["dir"], on_time["dir"])
        self.assertAlmostEqual(delayed["y"], on_time["y"], places=9)

    @PROPERTY
    @given(st.floats(P.HALF, P.H - P.HALF), st.sampled_from((-1, 1)), st.integers(1, 8))
    def test_from_a_standing_paddle_late_is_where_on_time_would_have_been_anywhere(
        self, y, d1, late
    ):
        delayed, on_time = late_and_on_time(y=y, d0=0, d1=d1, late=late)
        self.assertAlmostEqual(delayed["y"], on_time["y"], places=9)


class PongBallTests(unittest.TestCase):
    def test_the_first_serve_happens_after_the_countdown(self):
        state = new()
        for _ in range(P.FIRST_SERVE_TICKS - 1):
            T.step(state)
        self.assertEqual(state["ball"]["vx"], 0.0)
        T.step(state)
        self.assertEqual(state["serve_in"], 0)
        self.assertAlmostEqual(math.hypot(state["ball"]["vx"], state["ball"]["vy"]), 9.0)
        self.assertIn({"e": "serve", "to": state["serve_to"]}, state["events"])

    def test_the_serve_angle_comes_from_the_seed(self):
        def first_serve(seed):
            state = new(seed)
            for _ in range(P.FIRST_SERVE_TICKS):
                T.step(state)
            return state["ball"]["vx"], state["ball"]["vy"]

        self.assertEqual(first_serve(7), first_serve(7))
        angles = {first_serve(seed) for seed in range(12)}
        self.assertGreater(len(angles), 6)
        for vx, vy in angles:
            self.assertLessEqual(abs(math.atan2(vy, abs(vx))), P.SERVE_ANGLE)

    def test_the_ball_moves_by_its_velocity(self):
        state = in_play(new(), x=400.0, y=250.0, vx=5.0, vy=-3.0)
        T.step(state)
        self.assertEqual((state["ball"]["x"], state["ball"]["y"]), (405.0, 247.0))

    def test_the_ball_bounces_off_the_top_wall(self):
        state = in_play(new(), x=400.0, y=P.BALL_R + 2.0, vx=3.0, vy=-6.0)
        T.step(state)
        self.assertEqual(state["ball"]["y"], P.BALL_R + 4.0)
        self.assertEqual(state["ball"]["vy"], 6.0)
        self.assertIn({"e": "wall"}, state["events"])

    def test_the_ball_bounces_off_the_bottom_wall(self):
        state = in_play(new(), x=400.0, y=P.H - P.BALL_R - 1.0, vx=3.0, vy=5.0)
        T.step(state)
        self.assertEqual(state["ball"]["y"], P.H - P.BALL_R - 4.0)
        self.assertEqual(state["ball"]["vy"], -5.0)

    def test_a_ball_hitting_the_paddle_centre_leaves_horizontally(self):
        state = in_play(new(), x=P.LEFT_FACE + P.BALL_R + 4.0, y=250.0, vx=-8.0, vy=0.0)
        T.step(state)
        ball = state["ball"]
        self.assertGreater(ball["vx"], 0)
        self.assertAlmostEqual(ball["vy"], 0.0)
        self.assertEqual(state["hits"], [1, 0])
        self.assertIn({"e": "hit", "slot": 0}, state["events"])

    def test_a_ball_hitting_the_paddle_edge_leaves_at_a_steeper_angle(self):
        def outgoing_angle(offset):
            state = in_play(new(), x=P.RIGHT_FACE - P.BALL_R - 4.0, y=250.0 + offset, vx=8.0, vy=0)
            T.step(state)
            self.assertEqual(state["hits"], [0, 1])
            self.assertLess(state["ball"]["vx"], 0)
            return math.atan2(state["ball"]["vy"], -state["ball"]["vx"])

        near_centre = outgoing_angle(10.0)
        near_edge = outgoing_angle(P.HALF)
        very_edge_above = outgoing_angle(-(P.HALF + P.BALL_R))
        self.assertGreater(near_centre, 0)
        self.assertGreater(near_edge, near_centre)
        self.assertAlmostEqual(very_edge_above, -P.MAX_BOUNCE)

    def test_a_paddle_hit_speeds_the_ball_up(self):
        state = in_play(new(), x=P.LEFT_FACE + P.BALL_R + 4.0, y=250.0, vx=-9.0, vy=0.0)
        T.step(state)
        self.assertAlmostEqual(state["ball"]["speed"], 9.0 * P.SPEEDUP)
        self.assertAlmostEqual(math.hypot(state["ball"]["vx"], state["ball"]["vy"]), 9.0 * 1.06)

    def test_the_ball_speed_is_capped(self):
        state = in_play(new(), x=P.LEFT_FACE + P.BALL_R + 4.0, y=250.0, vx=-21.5, vy=0.0)
        T.step(state)
        self.assertAlmostEqual(state["ball"]["speed"], P.MAX_SPEED)

    def test_a_fast_ball_does_not_tunnel_through_the_paddle(self):
        # The ball starts far in front of the paddle and would jump over it in one tick.
        for speed in (P.MAX_SPEED, 150.0):
            with self.subTest(speed=speed):
                state = in_play(new(), x=P.LEFT_FACE + P.BALL_R + 5.0, y=250.0, vx=-speed, vy=0)
                T.step(state)
                self.assertEqual(state["hits"], [1, 0])
                self.assertGreaterEqual(state["ball"]["x"], P.LEFT_FACE + P.BALL_R)

    def test_a_hit_is_detected_after_a_wall_bounce_in_the_same_tick(self):
        # Moving up-left fast: it reflects off the top wall, then meets the paddle.
        state = new()
        state["paddles"][0]["y"] = P.HALF
        in_play(state, x=P.LEFT_FACE + P.BALL_R + 10.0, y=P.BALL_R + 2.0, vx=-20.0, vy=-10.0)
        T.step(state)
        self.assertEqual(state["hits"], [1, 0])
        self.assertIn({"e": "wall"}, state["events"])

    def test_a_missed_ball_scores_for_the_other_side(self):
        state = new()
        state["paddles"][0]["y"] = P.H - P.HALF
        in_play(state, x=60.0, y=100.0, vx=-12.0, vy=0.0)
        step_until(state, lambda s: s["scores"] != [0, 0])
        self.assertEqual(state["scores"], [0, 1])
        self.assertIn({"e": "point", "slot": 1}, state["events"])

    def test_after_a_point_the_ball_is_re_served_toward_the_conceder_after_a_pause(self):
        for conceder, x, vx in ((0, 50.0, -12.0), (1, 750.0, 12.0)):
            with self.subTest(conceder=conceder):
                state = new()
                state["paddles"][conceder]["y"] = P.H - P.HALF
                in_play(state, x=x, y=60.0, vx=vx, vy=0.0)
                step_until(state, lambda s: sum(s["scores"]) == 1)
                self.assertEqual(state["serve_in"], P.SERVE_TICKS)
                self.assertEqual((state["ball"]["x"], state["ball"]["y"]), (P.W / 2, P.H / 2))
                for _ in range(P.SERVE_TICKS - 1):
                    T.step(state)
                    self.assertEqual(state["ball"]["vx"], 0.0)
                T.step(state)
                self.assertEqual(state["serve_to"], conceder)
                self.assertEqual(state["ball"]["vx"] < 0, conceder == 0)
                self.assertAlmostEqual(state["ball"]["speed"], P.SERVE_SPEED)

    def test_reaching_score_to_wins_the_match(self):
        state = new(score_to=3)
        state["scores"] = [2, 1]
        state["paddles"][1]["y"] = P.HALF
        in_play(state, x=700.0, y=400.0, vx=12.0, vy=0.0)
        step_until(state, T.is_finished)
        self.assertEqual(state["scores"], [3, 1])
        result = T.result(state)
        self.assertEqual(result["winner"], 0)
        self.assertEqual(result["ranking"], [0, 1])
        self.assertEqual(result["summary"], "3\u20131")
        self.assertEqual(result["reason"], "score")

    def test_a_finished_match_ignores_steps_and_inputs(self):
        state = new(score_to=1)
        state["paddles"][1]["y"] = P.HALF
        in_play(state, x=700.0, y=400.0, vx=12.0, vy=0.0)
        step_until(state, T.is_finished)
        before = roundtrip(state)
        feed(T, state, 0, {"dir": 1})
        for _ in range(5):
            T.step(state)
        self.assertEqual(state, before)


class PongForfeitTests(unittest.TestCase):
    def test_a_forfeit_gives_the_opponent_the_win_immediately(self):
        state = new()
        state["scores"] = [5, 2]
        T.forfeit(state, 0)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual(result["winner"], 1)
        self.assertEqual(result["ranking"], [1, 0])
        self.assertEqual(result["scores"], [5, 2])
        self.assertEqual(result["forfeited"], [0])
        self.assertEqual(result["reason"], "forfeit")
        self.assertIn("forfeit", result["summary"])

    def test_a_forfeit_after_the_end_changes_nothing(self):
        state = new()
        T.forfeit(state, 1)
        T.forfeit(state, 0)
        self.assertEqual(T.result(state)["winner"], 0)
        self.assertEqual(state["forfeited"], [1])


class PongSnapshotTests(unittest.TestCase):
    def test_the_snapshot_has_what_a_renderer_needs_rounded_to_one_decimal(self):
        state = in_play(new(), x=400.123, y=250.987, vx=3.3333, vy=-1.1111)
        T.step(state)
        snap = T.snapshot(state)
        assert_plain_json(self, snap, "snapshot")
        for key in (
            "tick",
            "w",
            "h",
            "paddle_w",
            "paddle_h",
            "paddle_x",
            "ball_r",
            "paddles",
            "ball",
            "serve_in",
            "serve_to",
            "rally",
            "scores",
            "score_to",
            "finished",
            "winner",
            "events",
        ):
            self.assertIn(key, snap)
        self.assertEqual(snap["ball"], {"x": 403.5, "y": 249.9, "vx": 100.0, "vy": -33.3})
        self.assertEqual(snap["tick"], 1)


def play(seed, score_to, moves, check):
    """Random held inputs (one move every 6 ticks); None lets the bot play that slot."""
    state = new(seed, score_to=score_to)
    for move in moves:
        for slot in (0, 1):
            d = move[slot]
            inp = T.bot_input(state, slot) if d is None else {"dir": d}
            if inp is not None:
                feed(T, state, slot, inp)
        for _ in range(6):
            T.step(state)
            check(state)
    return state


moves = st.lists(
    st.tuples(st.sampled_from([None, -1, 0, 1]), st.sampled_from([None, -1, 0, 1])),
    min_size=40,
    max_size=150,
)


class PongPropertyTests(unittest.TestCase):
    @PROPERTY
    @given(seeds, moves)
    def test_the_ball_and_paddles_stay_in_the_field(self, seed, moves):
        def check(state):
            ball = state["ball"]
            self.assertTrue(0.0 <= ball["x"] <= P.W, ball)
            self.assertTrue(P.BALL_R <= ball["y"] <= P.H - P.BALL_R, ball)
            for p in state["paddles"]:
                self.assertTrue(P.HALF <= p["y"] <= P.H - P.HALF)
            self.assertLessEqual(ball["speed"], P.MAX_SPEED)

        play(seed, 11, moves, check)

    @PROPERTY
    @given(seeds, st.integers(1, 2), moves)
    def test_scores_never_go_down_and_a_finished_match_stays_finished(self, seed, to, moves):
        seen = {"scores": [0, 0], "finished": False, "result": None}

        def check(state):
            for old, new_score in zip(seen["scores"], state["scores"], strict=True):
                self.assertGreaterEqual(new_score, old)
            self.assertLessEqual(max(state["scores"]), to)
            if seen["finished"]:
                self.assertTrue(T.is_finished(state))
                self.assertEqual(T.result(state), seen["result"])
            elif T.is_finished(state):
                seen["finished"] = True
                seen["result"] = T.result(state)
            seen["scores"] = list(state["scores"])

        play(seed, to, moves, check)

    @PROPERTY
    @given(seeds, moves)
    def test_the_same_seed_and_inputs_give_the_same_states_across_json_round_trips(
        self, seed, moves
    ):
        a = new(seed, score_to=2)
        b = roundtrip(a)
        for move in moves:
            for slot in (0, 1):
                d = move[slot]
                inp_a = T.bot_input(a, slot) if d is None else {"dir": d}
                inp_b = T.bot_input(b, slot) if d is None else {"dir": d}
                self.assertEqual(inp_a, inp_b)
                if inp_a is not None:
                    feed(T, a, slot, inp_a)
                    feed(T, b, slot, inp_b)
            for _ in range(6):
                T.step(a)
                b = roundtrip(T.step(b))
                self.assertEqual(a, b)
        self.assertEqual(T.snapshot(a), T.snapshot(b))

    @PROPERTY
    @given(seeds)
    def test_bots_only_produce_valid_inputs(self, seed):
        def check(state, inputs):
            for inp in inputs.values():
                self.assertEqual(T.validate_input(inp), inp)

        run_bots(T, players=2, seed=seed, settings={"score_to": 1}, max_ticks=900, on_tick=check)


if __name__ == "__main__":
    unittest.main()
