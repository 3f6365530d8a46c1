"""Rules of Thrust Arena."""

from __future__ import annotations

import math
import unittest

from hypothesis import given
from hypothesis import strategies as st

from matches.games import InputError, SettingsError
from matches.games import arena as A
from tests.matches.games.helpers import (
    PROPERTY,
    assert_plain_json,
    feed,
    json_values,
    roundtrip,
    run_bots,
    seeds,
)

T = A.TITLE


def new(players=2, seed=1, **settings):
    settings.setdefault("max_players", 16)
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
            ("arena", "Thrust Arena", 1, 30, 2, 16),
        )
        self.assertFalse(T.pauses_on_disconnect)

    def test_ships_start_spread_on_a_ring_facing_the_centre_with_spawn_protection(self):
        state = new(16, seed=5)
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
        for players in (1, 17):
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
            "too many players": {"max_players": 17},
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
        self.assertEqual(schema["max_players"], {**schema["max_players"], "min": 2, "max": 16})


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
    @given(seeds, st.integers(2, 6), moves)
    def test_ships_never_exceed_the_maximum_speed_nor_leave_the_world(self, seed, players, moves):
        def check(state):
            for s in state["ships"]:
                self.assertLessEqual(math.hypot(s["vx"], s["vy"]), A.MAX_SPEED)
                self.assertTrue(A.SHIP_R <= s["x"] <= A.W - A.SHIP_R)
                self.assertTrue(A.SHIP_R <= s["y"] <= A.H - A.SHIP_R)
                self.assertTrue(-math.pi <= s["a"] < math.pi)
            for shot in state["shots"]:
                self.assertTrue(0 <= shot[0] <= A.W and 0 <= shot[1] <= A.H)

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
    @given(seeds, st.integers(2, 16))
    def test_bots_only_produce_valid_inputs(self, seed, players):
        def check(state, inputs):
            for inp in inputs.values():
                self.assertEqual(T.validate_input(inp), inp)

        run_bots(
            T,
            players=players,
            seed=seed,
            settings={"max_players": 16, "respawn_s": 1.0, "hp": 1},
            max_ticks=150,
            on_tick=check,
        )


if __name__ == "__main__":
    unittest.main()
