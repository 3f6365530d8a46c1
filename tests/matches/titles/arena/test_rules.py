"""Rules of Thrust Arena."""

from __future__ import annotations

import copy
import math
import random
import unittest
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from matches.titles import InputError, SettingsError
from matches.titles.arena import TITLE
from matches.titles.arena import bot as B
from matches.titles.arena import rules as A
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


def new(players=2, seed=1, **settings):
    settings.setdefault("max_players", T.max_players)
    return T.initial_state(players=players, seed=seed, settings=settings)


def place(state, slot, x, y, a=0.0, vx=0.0, vy=0.0, inv=0):
    ship = state["ships"][slot]
    ship.update(x=x, y=y, a=a, vx=vx, vy=vy, inv=inv)
    return ship


def quiet(players=2, **settings):
    """Ships parked in a row far from each other, without spawn protection."""
    state = new(players, **settings)
    for i in range(players):
        place(state, i, 100.0 + 50.0 * i, 900.0)
    return state


def duel(distance=200.0):
    """Ship 0 at the left facing right toward ship 1 (no protection, at rest)."""
    state = new(2)
    place(state, 0, 400.0, 500.0, a=0.0)
    place(state, 1, 400.0 + distance, 500.0, a=math.pi / 2)
    return state


def fire_once(state, slot=0):
    feed(T, state, slot, {"fire": True})
    T.step(state)
    feed(T, state, slot, {})


class ArenaSetupTests(unittest.TestCase):
    def test_the_title_is_described_by_its_class_attributes(self):
        self.assertEqual(
            (T.name, T.label, T.version, T.tick_hz, T.min_players, T.max_players),
            ("arena", "Thrust Arena", 1, 30, 2, 64),
        )
        self.assertFalse(T.pauses_on_disconnect)

    def test_ships_start_spread_on_a_ring_facing_the_centre_with_spawn_protection(self):
        state = new(8, seed=5)
        ships = state["ships"]
        for s in ships:
            self.assertAlmostEqual(math.hypot(s["x"] - 500, s["y"] - 500), A.SPAWN_RING)
            to_centre = math.atan2(500 - s["y"], 500 - s["x"])
            self.assertAlmostEqual(math.cos(to_centre - s["a"]), 1.0)
            self.assertEqual((s["hp"], s["inv"], s["vx"], s["vy"]), (3, A.INVULN_TICKS, 0, 0))
        gaps = [
            math.hypot(a["x"] - b["x"], a["y"] - b["y"])
            for i, a in enumerate(ships)
            for b in ships[i + 1 :]
        ]
        self.assertGreater(min(gaps), 130.0)

    def test_the_start_is_deterministic_from_the_seed(self):
        self.assertEqual(new(4, 42), new(4, 42))
        self.assertNotEqual(new(4, 42)["ships"], new(4, 43)["ships"])

    def test_the_initial_state_is_plain_json(self):
        assert_plain_json(self, new(16))
        self.assertEqual(roundtrip(new(16)), new(16))

    def test_the_player_count_must_fit(self):
        for players in (1, 65):
            with self.subTest(players=players), self.assertRaises(SettingsError):
                new(players)
        with self.assertRaises(SettingsError):
            T.initial_state(players=9, seed=1, settings={})


class ArenaSettingsTests(unittest.TestCase):
    def test_missing_settings_get_their_defaults(self):
        self.assertEqual(
            T.validate_settings(None),
            {"max_players": 8, "time_limit_s": 180, "respawn_s": 3.0, "hp": 3, "kill_limit": 0},
        )

    def test_a_float_setting_accepts_an_integer(self):
        clean = T.validate_settings({"respawn_s": 2})
        self.assertEqual(clean["respawn_s"], 2.0)
        self.assertIsInstance(clean["respawn_s"], float)
        self.assertEqual(T.initial_state(players=2, seed=0, settings=clean)["respawn_ticks"], 60)

    def test_each_kind_of_bad_setting_is_refused_naming_the_field(self):
        cases = {
            "unknown": {"gravity": 1},
            "nan": {"respawn_s": math.nan},
            "inf": {"respawn_s": math.inf},
            "-inf": {"respawn_s": -math.inf},
            "bool as number": {"respawn_s": True},
            "bool as int": {"hp": False},
            "string": {"respawn_s": "3"},
            "null": {"kill_limit": None},
            "float for int": {"hp": 2.5},
            "too short": {"time_limit_s": 29},
            "too long": {"time_limit_s": 901},
            "too quick": {"respawn_s": 0.5},
            "no hp": {"hp": 0},
            "negative limit": {"kill_limit": -1},
            "too many players": {"max_players": 65},
        }
        for case, raw in cases.items():
            with self.subTest(case), self.assertRaises(SettingsError) as ctx:
                T.validate_settings(raw)
            key = next(iter(raw))
            self.assertEqual(ctx.exception.field, key)
            self.assertIn(key, ctx.exception.reason)

    def test_the_schema_lists_every_field(self):
        schema = T.settings_schema()
        self.assertEqual(
            list(schema), ["max_players", "time_limit_s", "respawn_s", "hp", "kill_limit"]
        )
        self.assertEqual(schema["respawn_s"]["type"], "float")
        self.assertEqual(schema["max_players"], {**schema["max_players"], "min": 2, "max": 64})


class ArenaInputTests(unittest.TestCase):
    def test_a_full_input_is_normalised(self):
        self.assertEqual(
            T.validate_input({"thrust": True, "turn": -1, "fire": True, "aim": 1}),
            {"thrust": True, "turn": -1, "fire": True, "aim": 1.0},
        )

    def test_missing_controls_are_released(self):
        self.assertEqual(T.validate_input({}), A.NO_CONTROLS)
        self.assertEqual(T.validate_input({"aim": None})["aim"], None)

    def test_the_aim_is_normalised_to_minus_pi_to_pi(self):
        self.assertAlmostEqual(T.validate_input({"aim": 1.5 * math.pi})["aim"], -0.5 * math.pi)
        self.assertAlmostEqual(T.validate_input({"aim": -math.tau})["aim"], 0.0)

    def test_bad_payloads_are_refused(self):
        cases = [
            None,
            [],
            "fire",
            3,
            {"shoot": True},
            {"thrust": 1},
            {"thrust": "yes"},
            {"fire": None},
            {"turn": True},
            {"turn": 2},
            {"turn": 0.5},
            {"turn": "left"},
            {"aim": math.nan},
            {"aim": math.inf},
            {"aim": True},
            {"aim": "north"},
            {"aim": 7.0},
            {"aim": [1.0]},
        ]
        for payload in cases:
            with self.subTest(payload=payload), self.assertRaises(InputError) as ctx:
                T.validate_input(payload)
            self.assertEqual(ctx.exception.code, "bad_input")
            self.assertTrue(ctx.exception.reason)

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
            T.apply_input(new(2), 2, A.NO_CONTROLS)
        with self.assertRaises(InputError):
            T.forfeit(new(2), -1)


class ArenaFlightTests(unittest.TestCase):
    def test_thrust_accelerates_along_the_facing_direction(self):
        state = quiet()
        place(state, 0, 500.0, 500.0, a=math.pi / 2)
        feed(T, state, 0, {"thrust": True})
        T.step(state)
        ship = state["ships"][0]
        self.assertAlmostEqual(ship["vx"], 0.0)
        self.assertAlmostEqual(ship["vy"], A.THRUST * A.DRAG)
        self.assertAlmostEqual(ship["y"], 500.0 + A.THRUST * A.DRAG)

    def test_drag_slows_a_coasting_ship(self):
        state = quiet()
        place(state, 0, 500.0, 500.0, vx=5.0)
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["vx"], 5.0 * A.DRAG)
        for _ in range(300):
            T.step(state)
        self.assertLess(state["ships"][0]["vx"], 0.1)

    def test_the_speed_never_exceeds_the_maximum(self):
        state = quiet()
        place(state, 0, 100.0, 500.0)
        feed(T, state, 0, {"thrust": True})
        speeds = []
        for _ in range(60):
            T.step(state)
            speeds.append(math.hypot(state["ships"][0]["vx"], state["ships"][0]["vy"]))
        self.assertLessEqual(max(speeds), A.MAX_SPEED)
        self.assertAlmostEqual(speeds[-1], A.MAX_SPEED)

    def test_the_speed_clamp_is_exact(self):
        for vx, vy in ((30.0, 40.0), (1e6, -3.0), (8.999, 0.5), (-6.4, 6.4000001)):
            cx, cy = A.clamp_speed(vx, vy)
            self.assertLessEqual(math.hypot(cx, cy), A.MAX_SPEED)
            self.assertAlmostEqual(math.atan2(cy, cx), math.atan2(vy, vx))

    def test_turning_rotates_at_the_turn_rate(self):
        state = quiet()
        feed(T, state, 0, {"turn": 1})
        T.step(state)
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["a"], 2 * A.TURN_RATE)
        feed(T, state, 0, {"turn": -1})
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["a"], A.TURN_RATE)

    def test_aiming_rotates_toward_the_aim_at_the_turn_rate_then_holds_it(self):
        state = quiet()
        feed(T, state, 0, {"aim": 0.5, "turn": -1})  # the aim wins over turn
        for expected in (A.TURN_RATE, 2 * A.TURN_RATE, 3 * A.TURN_RATE, 0.5, 0.5):
            T.step(state)
            self.assertAlmostEqual(state["ships"][0]["a"], expected)

    def test_aiming_takes_the_short_way_round(self):
        state = quiet()
        state["ships"][0]["a"] = 3.0
        feed(T, state, 0, {"aim": -3.0})
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["a"], 3.0 + A.TURN_RATE)
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["a"], 3.0 + 2 * A.TURN_RATE - math.tau)
        T.step(state)
        self.assertAlmostEqual(state["ships"][0]["a"], -3.0)

    def test_walls_keep_the_ship_inside_and_bounce_it(self):
        state = quiet()
        place(state, 0, A.SHIP_R + 2.0, 500.0, vx=-8.0, vy=1.0)
        T.step(state)
        ship = state["ships"][0]
        self.assertEqual(ship["x"], A.SHIP_R)
        self.assertAlmostEqual(ship["vx"], 8.0 * A.DRAG * A.WALL_BOUNCE)
        self.assertAlmostEqual(ship["vy"], 1.0 * A.DRAG)
        place(state, 0, 900.0, A.H - A.SHIP_R - 1.0, vy=5.0)
        T.step(state)
        self.assertEqual(ship["y"], A.H - A.SHIP_R)
        self.assertLess(ship["vy"], 0)


class ArenaShootingTests(unittest.TestCase):
    def test_shots_fly_straight_from_the_nose_at_shot_speed(self):
        state = quiet()
        place(state, 0, 500.0, 500.0, a=math.pi)
        fire_once(state)
        x, _y, vx, vy, owner, _life = state["shots"][0]
        self.assertEqual(owner, 0)
        self.assertAlmostEqual(vx, -A.SHOT_SPEED)
        self.assertAlmostEqual(vy, 0.0)
        self.assertAlmostEqual(x, 500.0 - A.SHIP_R - A.SHOT_R - A.SHOT_SPEED)
        self.assertIn({"e": "fire", "slot": 0}, state["events"])

    def test_holding_fire_shoots_once_per_cooldown(self):
        state = quiet()
        place(state, 0, 500.0, 100.0, a=math.pi / 2)
        feed(T, state, 0, {"fire": True})
        fired_at = []
        for tick in range(1, 31):
            T.step(state)
            if {"e": "fire", "slot": 0} in state["events"]:
                fired_at.append(tick)
        self.assertEqual(fired_at, [1, 1 + A.COOLDOWN, 1 + 2 * A.COOLDOWN, 1 + 3 * A.COOLDOWN])
        self.assertEqual(len(state["shots"]), 4)

    def test_shots_expire_after_their_lifetime(self):
        state = quiet()
        place(state, 0, 500.0, 100.0, a=math.pi / 2)
        fire_once(state)
        for _ in range(A.SHOT_LIFE - 2):
            T.step(state)
        self.assertEqual(len(state["shots"]), 1)
        T.step(state)
        self.assertEqual(state["shots"], [])

    def test_shots_leaving_the_world_disappear(self):
        state = quiet()
        place(state, 0, 500.0, 40.0, a=-math.pi / 2)
        fire_once(state)
        T.step(state)
        T.step(state)
        self.assertEqual(state["shots"], [])

    def test_a_shot_hitting_a_ship_costs_one_hit_point(self):
        state = duel()
        fire_once(state)
        for _ in range(12):
            T.step(state)
        self.assertEqual(state["ships"][1]["hp"], 2)
        self.assertEqual(state["shots"], [])
        self.assertEqual(T.result(state)["scores"], [0, 0])

    def test_a_shot_grazing_the_ship_edge_hits(self):
        state = duel()
        state["ships"][1]["y"] = 500.0 + A.HIT_R - 0.5
        fire_once(state)
        for _ in range(12):
            T.step(state)
        self.assertEqual(state["ships"][1]["hp"], 2)
        state = duel()
        state["ships"][1]["y"] = 500.0 + A.HIT_R + 0.5
        fire_once(state)
        for _ in range(12):
            T.step(state)
        self.assertEqual(state["ships"][1]["hp"], 3)

    def test_a_ship_cannot_shoot_itself(self):
        state = quiet()
        place(state, 0, 500.0, 500.0, a=0.0, vx=A.MAX_SPEED)
        feed(T, state, 0, {"fire": True, "thrust": True})
        for _ in range(40):
            T.step(state)
        self.assertEqual(state["ships"][0]["hp"], 3)

    def test_spawn_protection_absorbs_shots(self):
        state = duel()
        state["ships"][1]["inv"] = 30
        fire_once(state)
        for _ in range(12):
            T.step(state)
        self.assertEqual(state["ships"][1]["hp"], 3)
        self.assertEqual(state["shots"], [])

    def test_firing_ends_spawn_protection(self):
        state = duel()
        state["ships"][0]["inv"] = 30
        fire_once(state)
        self.assertEqual(state["ships"][0]["inv"], 0)

    def test_the_last_hit_point_destroys_the_ship_and_scores_a_kill(self):
        state = duel()
        state["ships"][1]["hp"] = 1
        fire_once(state)
        for _ in range(12):
            T.step(state)
            if not state["ships"][1]["alive"]:
                break
        victim = state["ships"][1]
        self.assertFalse(victim["alive"])
        self.assertEqual((victim["deaths"], state["ships"][0]["kills"]), (1, 1))
        self.assertEqual(victim["respawn_in"], state["respawn_ticks"])
        self.assertIn({"e": "kill", "slot": 1, "by": 0}, state["events"])
        self.assertEqual(T.result(state)["scores"], [1, 0])

    def test_a_destroyed_ship_respawns_after_the_delay_with_protection(self):
        state = duel()
        state["ships"][1]["hp"] = 1
        fire_once(state)
        while state["ships"][1]["alive"]:
            T.step(state)
        for _ in range(state["respawn_ticks"] - 1):
            T.step(state)
            self.assertFalse(state["ships"][1]["alive"])
        T.step(state)
        ship = state["ships"][1]
        self.assertTrue(ship["alive"])
        self.assertEqual(
            (ship["hp"], ship["inv"], ship["vx"], ship["vy"]), (3, A.INVULN_TICKS, 0, 0)
        )
        self.assertTrue(A.SPAWN_MARGIN <= ship["x"] <= A.W - A.SPAWN_MARGIN)
        self.assertTrue(A.SPAWN_MARGIN <= ship["y"] <= A.H - A.SPAWN_MARGIN)
        other = state["ships"][0]
        self.assertGreater(math.hypot(ship["x"] - other["x"], ship["y"] - other["y"]), 100.0)
        self.assertIn({"e": "respawn", "slot": 1}, state["events"])

    def test_controls_sent_while_destroyed_apply_after_the_respawn(self):
        state = duel()
        state["ships"][1].update(alive=False, hp=0, respawn_in=1)
        feed(T, state, 1, {"turn": 1})
        self.assertEqual(state["ships"][1]["turn"], 1)
        T.step(state)
        a = state["ships"][1]["a"]
        T.step(state)
        self.assertAlmostEqual(state["ships"][1]["a"], A.norm_angle(a + A.TURN_RATE))


class ArenaEndTests(unittest.TestCase):
    def test_the_match_ends_at_the_time_limit_and_most_kills_wins(self):
        state = quiet(3, time_limit_s=30)
        self.assertEqual(state["end_tick"], 900)
        state["ships"][1]["kills"] = 2
        state["ships"][2]["kills"] = 1
        state["end_tick"] = 3
        T.step(state)
        T.step(state)
        self.assertFalse(T.is_finished(state))
        T.step(state)
        result = T.result(state)
        self.assertTrue(result["finished"])
        self.assertEqual((result["winner"], result["ranking"]), (1, [1, 2, 0]))
        self.assertEqual((result["reason"], result["summary"]), ("time_up", "2\u20131\u20130"))

    def test_equal_kills_are_decided_by_fewer_deaths(self):
        state = quiet(2)
        for s, (k, d) in zip(state["ships"], ((3, 2), (3, 1)), strict=True):
            s.update(kills=k, deaths=d)
        state["end_tick"] = 1
        T.step(state)
        self.assertEqual(T.result(state)["winner"], 1)

    def test_equal_kills_and_deaths_are_a_draw(self):
        state = quiet(3)
        for s, (k, d) in zip(state["ships"], ((3, 2), (3, 2), (1, 0)), strict=True):
            s.update(kills=k, deaths=d)
        state["end_tick"] = 1
        T.step(state)
        result = T.result(state)
        self.assertIsNone(result["winner"])
        self.assertEqual(result["ranking"], [0, 1, 2])
        self.assertIn("draw", result["summary"])

    def test_the_kill_limit_ends_the_match(self):
        state = duel()
        state["settings"]["kill_limit"] = 1
        state["ships"][1]["hp"] = 1
        fire_once(state)
        for _ in range(12):
            T.step(state)
        self.assertTrue(T.is_finished(state))
        self.assertEqual(T.result(state)["reason"], "kill_limit")
        self.assertEqual(T.result(state)["winner"], 0)

    def test_a_finished_match_ignores_steps_and_inputs(self):
        state = quiet(2)
        state["end_tick"] = 1
        T.step(state)
        before = roundtrip(state)
        feed(T, state, 0, {"thrust": True, "fire": True})
        T.step(state)
        T.forfeit(state, 0)
        self.assertEqual(state, before)

    def test_a_forfeit_removes_the_ship_and_its_shots(self):
        state = quiet(3)
        place(state, 0, 500.0, 500.0)
        fire_once(state)
        self.assertEqual(len(state["shots"]), 1)
        state["ships"][0]["kills"] = 5
        T.forfeit(state, 0)
        self.assertFalse(T.is_finished(state))
        ship = state["ships"][0]
        self.assertFalse(ship["active"] or ship["alive"])
        self.assertEqual(state["shots"], [])
        feed(T, state, 0, {"thrust": True})
        self.assertFalse(ship["thrust"])
        self.assertIsNone(T.bot_input(state, 0))

    def test_the_match_ends_when_one_ship_remains_and_forfeits_rank_last(self):
        state = quiet(3)
        state["ships"][0]["kills"] = 5
        T.forfeit(state, 0)
        T.forfeit(state, 2)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual(result["winner"], 1)
        self.assertEqual(result["ranking"], [1, 0, 2])
        self.assertEqual(result["forfeited"], [0, 2])
        self.assertEqual(result["reason"], "forfeit")


class ArenaSnapshotTests(unittest.TestCase):
    def test_the_snapshot_has_what_a_renderer_needs(self):
        state = quiet()
        place(state, 0, 500.0, 500.0, a=0.123456, vx=1.23456)
        fire_once(state)
        snap = T.snapshot(state)
        assert_plain_json(self, snap, "snapshot")
        for key in ("tick", "w", "h", "ship_r", "shot_r", "max_hp", "ticks_left", "scores"):
            self.assertIn(key, snap)
        ship = snap["ships"][0]
        self.assertEqual(
            set(ship),
            {"x", "y", "vx", "vy", "a", "hp", "alive", "active", "inv", "respawn_in", "thrust"}
            | {"kills", "deaths"},
        )
        self.assertEqual(ship["a"], 0.12)
        self.assertEqual(ship["vx"], round(1.23456 * A.DRAG * 30, 1))
        _x, _y, vx, _vy, owner = snap["shots"][0]
        self.assertEqual((vx, owner), (round(A.SHOT_SPEED * 30 * math.cos(0.123456), 1), 0))
        self.assertEqual(snap["ticks_left"], state["end_tick"] - 1)


class ArenaWorldSizeTests(unittest.TestCase):
    def test_up_to_eight_players_the_world_is_the_classic_one(self):
        for players in range(2, 9):
            with self.subTest(players=players):
                self.assertEqual(A.world_size(players), (A.W, A.H))
                state = new(players)
                self.assertEqual((state["w"], state["h"]), (1000.0, 1000.0))

    def test_the_world_grows_with_the_players_keeping_the_room_per_ship(self):
        self.assertEqual(A.world_size(16), (1414.0, 1414.0))
        self.assertEqual(A.world_size(50), (2500.0, 2500.0))
        self.assertEqual(A.world_size(64), (2828.0, 2828.0))
        sides = [A.world_size(n)[0] for n in range(2, 65)]
        self.assertEqual(sides, sorted(sides))
        for players in range(8, 65):
            w, h = A.world_size(players)
            self.assertAlmostEqual(w * h / players, A.W * A.H / 8, delta=0.002 * w * h / players)

    def test_the_state_and_the_snapshot_carry_the_world_size(self):
        state = new(64)
        self.assertEqual((state["w"], state["h"]), A.world_size(64))
        snap = T.snapshot(state)
        self.assertEqual((snap["w"], snap["h"]), (2828.0, 2828.0))
        assert_plain_json(self, state)

    def test_a_state_without_a_world_size_is_played_in_the_classic_world(self):
        state = quiet(2)
        del state["w"], state["h"]
        place(state, 0, A.W - A.SHIP_R - 1.0, 500.0, vx=5.0)
        T.step(state)
        self.assertEqual(state["ships"][0]["x"], A.W - A.SHIP_R)
        self.assertEqual((T.snapshot(state)["w"], T.snapshot(state)["h"]), (A.W, A.H))

    def test_all_ships_spawn_inside_the_world_well_apart_facing_the_centre(self):
        for players in (2, 8, 9, 16, 33, 50, 64):
            with self.subTest(players=players):
                state = new(players, seed=players)
                w, h = state["w"], state["h"]
                ring = A.SPAWN_RING * w / A.W
                ships = state["ships"]
                for s in ships:
                    self.assertTrue(A.SPAWN_MARGIN <= s["x"] <= w - A.SPAWN_MARGIN)
                    self.assertTrue(A.SPAWN_MARGIN <= s["y"] <= h - A.SPAWN_MARGIN)
                    self.assertAlmostEqual(math.hypot(s["x"] - w / 2, s["y"] - h / 2), ring)
                    to_centre = math.atan2(h / 2 - s["y"], w / 2 - s["x"])
                    self.assertAlmostEqual(math.cos(to_centre - s["a"]), 1.0)
                gap = min(
                    math.hypot(a["x"] - b["x"], a["y"] - b["y"])
                    for i, a in enumerate(ships)
                    for b in ships[i + 1 :]
                )
                self.assertGreater(gap, 6 * A.SHIP_R)

    def test_respawn_points_cover_the_grown_world_inside_its_margins(self):
        state = new(64, seed=3)
        w, h = state["w"], state["h"]
        spots = []
        for _ in range(40):
            state["ships"][5].update(alive=False, hp=0, respawn_in=1)
            T.step(state)
            ship = state["ships"][5]
            self.assertTrue(ship["alive"])
            spots.append((ship["x"], ship["y"]))
            to_centre = math.atan2(h / 2 - ship["y"], w / 2 - ship["x"])
            self.assertAlmostEqual(math.cos(to_centre - ship["a"]), 1.0)
        for x, y in spots:
            self.assertTrue(A.SPAWN_MARGIN <= x <= w - A.SPAWN_MARGIN)
            self.assertTrue(A.SPAWN_MARGIN <= y <= h - A.SPAWN_MARGIN)
        self.assertGreater(max(x for x, _ in spots), A.W)
        self.assertGreater(max(y for _, y in spots), A.H)

    def test_walls_of_a_grown_world_are_at_its_edges(self):
        state = new(64)
        w, h = state["w"], state["h"]
        for i in range(64):
            place(state, i, 200.0 + 30.0 * i, 200.0)
        place(state, 0, w - A.SHIP_R - 1.0, h - A.SHIP_R - 1.0, vx=5.0, vy=5.0)
        T.step(state)
        ship = state["ships"][0]
        self.assertEqual((ship["x"], ship["y"]), (w - A.SHIP_R, h - A.SHIP_R))
        self.assertLess(ship["vx"], 0)
        self.assertLess(ship["vy"], 0)

    def test_a_bot_near_a_far_wall_of_a_grown_world_turns_to_its_centre(self):
        state = new(64)
        w, h = state["w"], state["h"]
        place(state, 0, w - 60.0, h / 2, a=0.0, vx=6.0)
        inp = T.bot_input(state, 0)
        self.assertAlmostEqual(inp["aim"], -math.pi)
        self.assertFalse(inp["fire"])
        place(state, 0, A.W - 60.0, h / 2, a=0.0, vx=6.0)  # the classic wall is no wall here
        self.assertNotAlmostEqual(T.bot_input(state, 0)["aim"], -math.pi)


def reference_move_shots(state, shots):
    """The hit test written plainly (the reference): every shot against every ship.

    A shot hits the ship (alive and active when the shots start moving, still alive when
    the shot gets to it, not its owner) whose centre its one-tick path passes within
    HIT_R of earliest; on equal times the lowest slot."""
    targets = [(i, s) for i, s in enumerate(state["ships"]) if s["alive"] and s["active"]]
    kept = []
    for shot in shots:
        x0, y0, vx, vy, owner, life = shot
        x1, y1 = x0 + vx, y0 + vy
        hit, first = None, 2.0
        for i, s in targets:
            if i == owner:
                continue
            fx, fy = x0 - s["x"], y0 - s["y"]
            t = min(1.0, max(0.0, -(fx * vx + fy * vy) / (vx * vx + vy * vy)))
            dx, dy = fx + vx * t, fy + vy * t
            if dx * dx + dy * dy <= A.HIT_R * A.HIT_R and t < first and s["alive"]:
                hit, first = i, t
        if hit is not None:
            T._hit(state, hit, owner)
            continue
        life -= 1
        if life <= 0 or not (0.0 <= x1 <= state["w"] and 0.0 <= y1 <= state["h"]):
            continue
        shot[0], shot[1], shot[5] = x1, y1, life
        kept.append(shot)
    return kept


def reference_target(ships, slot, x, y):
    """The bots' target written plainly: the nearest enemy, a protected one counting
    BOT_SHIELD_PENALTY farther; on equal distances the lowest slot."""
    enemies = [
        (math.hypot(o["x"] - x, o["y"] - y) + (B.BOT_SHIELD_PENALTY if o["inv"] > 0 else 0), j)
        for j, o in enumerate(ships)
        if j != slot and o["alive"] and o["active"]
    ]
    return ships[min(enemies)[1]] if enemies else None


EDGES = [k * A._CELL + d for k in range(8) for d in (-1e-9, 0.0, 1e-9)]  # grid cell edges


def crowd(players, seed, spread, shots):
    """A random state: ``players`` ships within ``spread`` units of a corner, often on a
    grid cell edge or on another ship's point (so that a shot reaches several at the same
    instant), a few outside the world, some destroyed, gone or protected; ``shots`` shots
    starting up to a little more than _REACH from a ship, half of them aimed at a ship."""
    rnd = random.Random(seed)
    state = new(players)
    ships = state["ships"]
    for s in ships:
        x, y = (rnd.uniform(-40.0, spread) for _ in "xy")
        if rnd.random() < 0.2:
            x, y = rnd.choice(EDGES), rnd.choice(EDGES)
        elif rnd.random() < 0.2:
            twin = rnd.choice(ships)
            x, y = twin["x"], twin["y"]
        s.update(x=x, y=y, hp=rnd.randint(1, 3), inv=rnd.choice([0, 0, 0, 0, 5]))
        s.update(alive=rnd.random() < 0.85, active=rnd.random() < 0.9)
    reach = [-A._REACH, -A.HIT_R, 0.0, A.HIT_R, A._REACH]
    for _ in range(shots):
        near = rnd.choice(ships)
        dx, dy = (
            rnd.uniform(-40.0, 40.0) if rnd.random() < 0.8 else rnd.choice(reach) for _ in "xy"
        )
        x, y = near["x"] + dx, near["y"] + dy
        aim = rnd.choice(ships)
        if rnd.random() < 0.5 and (aim["x"], aim["y"]) != (x, y):
            a = math.atan2(aim["y"] - y, aim["x"] - x)
        else:
            a = rnd.uniform(-math.pi, math.pi)
        vx, vy = A.SHOT_SPEED * math.cos(a), A.SHOT_SPEED * math.sin(a)
        state["shots"].append([x, y, vx, vy, rnd.randrange(players), rnd.randint(1, 36)])
    return state


class ArenaSearchTests(unittest.TestCase):
    """The hit test and the bots' target search give what measuring every ship gives."""

    @PROPERTY
    @given(
        st.integers(2, 64),
        seeds,
        st.sampled_from([60.0, 150.0, 400.0, 2800.0]),
        st.integers(0, 300),
    )
    def test_the_grid_hit_test_gives_the_same_hits_as_testing_every_ship(
        self, players, seed, spread, shots
    ):
        grid = crowd(players, seed, spread, shots)
        plain = copy.deepcopy(grid)
        kept = T._move_shots(grid, grid["shots"])
        self.assertEqual(kept, reference_move_shots(plain, plain["shots"]))
        self.assertEqual(grid, plain)  # hits, kills and events, in the same order

    @PROPERTY
    @given(st.integers(2, 64), seeds, st.sampled_from([60.0, 150.0, 400.0, 2800.0]))
    def test_the_bots_target_search_finds_the_nearest_enemy_as_measuring_every_ship(
        self, players, seed, spread
    ):
        ships = crowd(players, seed, spread, 0)["ships"]
        for slot, me in enumerate(ships):
            found = B.nearest_target(ships, slot, me["x"], me["y"])
            self.assertIs(found, reference_target(ships, slot, me["x"], me["y"]))

    def test_a_shot_hits_the_first_ship_on_its_path_and_the_lower_slot_on_a_tie(self):
        state = quiet(4)
        place(state, 0, 400.0, 500.0)
        state["shots"] = [[400.0, 500.0, A.SHOT_SPEED, 0.0, 0, 10]]
        place(state, 1, 415.0, 500.0)
        place(state, 2, 410.0, 500.0)
        T.step(state)
        self.assertEqual(
            [e for e in state["events"] if e["e"] == "hit"], [{"e": "hit", "slot": 2, "by": 0}]
        )
        state["shots"] = [[400.0, 500.0, A.SHOT_SPEED, 0.0, 0, 10]]
        place(state, 3, 410.0, 500.0)
        T.step(state)
        self.assertEqual(
            [e for e in state["events"] if e["e"] == "hit"], [{"e": "hit", "slot": 2, "by": 0}]
        )

    def test_a_crowded_bot_match_plays_the_same_as_with_the_plain_hit_test(self):
        def plain(self, state, shots):
            return reference_move_shots(state, shots)

        settings = {"max_players": 64, "time_limit_s": 30, "respawn_s": 1.0, "hp": 1}
        grid, _ = run_bots(T, players=64, seed=8, settings=settings, max_ticks=450)
        with mock.patch.object(A.Arena, "_move_shots", plain):
            ref, _ = run_bots(T, players=64, seed=8, settings=settings, max_ticks=450)
        self.assertEqual(grid, ref)
        self.assertGreater(sum(s["kills"] for s in grid["ships"]), 20)


class ArenaCrowdTests(unittest.TestCase):
    def test_a_64_player_bot_match_runs_to_its_end_inside_the_world(self):
        def check(state, inputs):
            for s in state["ships"]:
                self.assertTrue(A.SHIP_R <= s["x"] <= state["w"] - A.SHIP_R)
                self.assertTrue(A.SHIP_R <= s["y"] <= state["h"] - A.SHIP_R)

        state, ticks = run_bots(
            T, players=64, seed=2, settings={"max_players": 64, "time_limit_s": 30}, on_tick=check
        )
        self.assertTrue(T.is_finished(state))
        self.assertEqual(ticks, 900)
        result = T.result(state)
        self.assertEqual(result["reason"], "time_up")
        self.assertGreater(sum(result["scores"]), 64)
        self.assertEqual(sorted(result["ranking"]), list(range(64)))
        self.assertEqual(sum(s["deaths"] for s in state["ships"]), sum(result["scores"]))

    def test_a_50_player_match_is_deterministic_across_json_round_trips(self):
        settings = {"max_players": 64, "time_limit_s": 30, "respawn_s": 1.0, "hp": 1}
        a = new(50, 77, **settings)
        b = roundtrip(a)
        for _ in range(300):
            for slot in range(50):
                inp_a, inp_b = T.bot_input(a, slot), T.bot_input(b, slot)
                self.assertEqual(inp_a, inp_b)
                if inp_a is not None:
                    feed(T, a, slot, inp_a)
                    feed(T, b, slot, inp_b)
            T.step(a)
            b = roundtrip(T.step(b))
        self.assertEqual(a, b)
        self.assertEqual(T.snapshot(a), T.snapshot(b))
        self.assertGreater(sum(s["kills"] for s in a["ships"]), 0)
        other, _ = run_bots(T, players=50, seed=78, settings=settings, max_ticks=300)
        self.assertNotEqual(other["ships"], a["ships"])

    def test_the_bot_picks_the_nearest_enemy_among_many_preferring_unprotected_ones(self):
        state = new(64)
        w, h = state["w"], state["h"]
        cx, cy = w / 2, h / 2
        for i in range(1, 64):  # a wide ring, all in range of none
            angle = math.tau * i / 64
            place(state, i, cx + 1200 * math.cos(angle), cy + 1200 * math.sin(angle))
        place(state, 0, cx, cy, a=1.0)
        place(state, 40, cx + 300 * math.cos(1.0), cy + 300 * math.sin(1.0))
        place(state, 7, cx + 100 * math.cos(-2.0), cy + 100 * math.sin(-2.0), inv=20)
        inp = T.bot_input(state, 0)
        self.assertAlmostEqual(inp["aim"], 1.0, delta=max(B.BOT_AIM_ERROR) + 1e-9)
        state["ships"][7]["inv"] = 0
        inp = T.bot_input(state, 0)
        self.assertAlmostEqual(inp["aim"], -2.0, delta=max(B.BOT_AIM_ERROR) + 1e-9)


controls = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "thrust": st.booleans(),
            "turn": st.integers(-1, 1),
            "fire": st.booleans(),
            "aim": st.none() | st.floats(-math.tau, math.tau),
        }
    ),
)


def play(seed, players, moves, check):
    """Each move sets every slot's controls (None = the bot decides) for three ticks."""
    state = new(players, seed, time_limit_s=30, respawn_s=1.0, hp=1)
    for move in moves:
        for slot in range(players):
            inp = move[slot % len(move)]
            if inp is None:
                inp = T.bot_input(state, slot)
            if inp is not None:
                feed(T, state, slot, inp)
        for _ in range(3):
            T.step(state)
            check(state)
    return state


moves = st.lists(st.lists(controls, min_size=1, max_size=4), min_size=10, max_size=80)


class ArenaPropertyTests(unittest.TestCase):
    @PROPERTY
    @given(seeds, st.integers(2, 6) | st.sampled_from([9, 23, 64]), moves)
    def test_ships_never_exceed_the_maximum_speed_nor_leave_the_world(self, seed, players, moves):
        def check(state):
            w, h = state["w"], state["h"]
            for s in state["ships"]:
                self.assertLessEqual(math.hypot(s["vx"], s["vy"]), A.MAX_SPEED)
                self.assertTrue(A.SHIP_R <= s["x"] <= w - A.SHIP_R)
                self.assertTrue(A.SHIP_R <= s["y"] <= h - A.SHIP_R)
                self.assertTrue(-math.pi <= s["a"] < math.pi)
            for shot in state["shots"]:
                self.assertTrue(0 <= shot[0] <= w and 0 <= shot[1] <= h)

        play(seed, players, moves, check)

    @PROPERTY
    @given(seeds, st.integers(2, 6), moves)
    def test_scores_never_go_down_and_a_finished_match_stays_finished(self, seed, players, moves):
        seen = {"kills": [0] * players}

        def check(state):
            kills = [s["kills"] for s in state["ships"]]
            for old, now in zip(seen["kills"], kills, strict=True):
                self.assertGreaterEqual(now, old)
            seen["kills"] = kills
            if "result" in seen:
                self.assertTrue(T.is_finished(state))
                self.assertEqual(T.result(state), seen["result"])
            elif T.is_finished(state):
                seen["result"] = T.result(state)

        state = play(seed, players, moves, check)
        state["end_tick"] = state["tick"] + 1
        for _ in range(3):
            T.step(state)
            check(state)
        self.assertIn("result", seen)

    @PROPERTY
    @given(seeds, st.integers(2, 6), moves)
    def test_the_same_seed_and_inputs_give_the_same_states_across_json_round_trips(
        self, seed, players, moves
    ):
        a = new(players, seed, respawn_s=1.0, hp=1)
        b = roundtrip(a)
        for move in moves:
            for slot in range(players):
                inp = move[slot % len(move)]
                inp_a = T.bot_input(a, slot) if inp is None else inp
                inp_b = T.bot_input(b, slot) if inp is None else inp
                self.assertEqual(inp_a, inp_b)
                if inp_a is not None:
                    feed(T, a, slot, inp_a)
                    feed(T, b, slot, inp_b)
            for _ in range(3):
                T.step(a)
                b = roundtrip(T.step(b))
                self.assertEqual(a, b)
        self.assertEqual(T.snapshot(a), T.snapshot(b))

    @PROPERTY
    @given(seeds, st.integers(2, 64))
    def test_bots_only_produce_valid_inputs(self, seed, players):
        def check(state, inputs):
            for inp in inputs.values():
                self.assertEqual(T.validate_input(inp), inp)

        run_bots(
            T,
            players=players,
            seed=seed,
            settings={"max_players": 64, "respawn_s": 1.0, "hp": 1},
            max_ticks=150,
            on_tick=check,
        )


if __name__ == "__main__":
    unittest.main()
