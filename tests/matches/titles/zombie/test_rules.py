"""Zombie Siege's rules: maps, settings and inputs, movement, shots, the flow field, bites,
revives, pickups, waves, the end, and determinism across JSON round trips and replays."""

from __future__ import annotations

import math
import unittest

from hypothesis import given
from hypothesis import strategies as st

from matches import replay
from matches.titles import InputError, SettingsError, get_title
from matches.titles.zombie import grid, rules
from matches.titles.zombie.maps import MAPS, MapError, parse
from tests.matches.titles.helpers import (
    PROPERTY,
    assert_plain_json,
    feed,
    roundtrip,
    run_bots,
    seeds,
)

T = get_title("zombie")
QUIET = 10**6  # next_wave_in: no wave comes during a test


def siege(players=1, *, settings=None, team=(), zombies=(), pickups=None) -> dict:
    """A state on the office map with no wave due, the team at ``team`` [(x, y)], and
    ``zombies`` [(x, y)] of 1 hp."""
    state = T.initial_state(players=players, seed=1, settings=settings or {})
    state["next_wave_in"] = QUIET
    for p, (x, y) in zip(state["team"], team, strict=False):
        p["x"], p["y"] = x, y
    for x, y in zombies:
        state["zid"] += 1
        state["zombies"].append([state["zid"], x, y, 1, 0])
    if pickups is not None:
        state["pickups"] = [list(p) for p in pickups]
    return state


def reachable(tm, start: int) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        for n in tm.links[todo.pop()]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


class MapTests(unittest.TestCase):
    def test_two_maps_ship_and_every_floor_tile_of_each_is_reachable_from_the_starts(self):
        self.assertGreaterEqual(len(MAPS), 2)
        for tm in MAPS:
            with self.subTest(tm.name):
                floor = {i for i, s in enumerate(tm.solid) if not s}
                sx, sy = tm.starts[0]
                self.assertEqual(reachable(tm, sy * tm.w + sx), floor)
                self.assertTrue(tm.about)
                self.assertGreater(sum(tm.solid), 2 * (tm.w + tm.h))  # walls inside too

    def test_a_map_that_breaks_the_legend_is_refused_at_parse_time(self):
        with self.assertRaisesRegex(MapError, "same length"):
            parse("bad", "####\n#P#\n####")
        with self.assertRaisesRegex(MapError, "unknown tile"):
            parse("bad", "####\n#PX#\n####")
        with self.assertRaisesRegex(MapError, "border"):
            parse("bad", "####\n#PZ.\n####")
        with self.assertRaisesRegex(MapError, "spawns"):
            parse("bad", "####\n#P.#\n####")

    def test_diagonal_links_never_cut_a_wall_corner(self):
        tm = parse("t", "#####\n#P..#\n#.#.#\n#..Z#\n#####")
        centre_left = 2 * 5 + 1
        self.assertNotIn(1 * 5 + 2 + 0, [n for n in tm.links[centre_left] if n == 1 * 5 + 2])
        self.assertEqual(sorted(tm.links[1 * 5 + 1]), [1 * 5 + 2, 2 * 5 + 1])


class SettingsAndInputTests(unittest.TestCase):
    def test_the_title_is_described_by_its_class_attributes(self):
        self.assertEqual((T.name, T.label, T.tick_hz, T.min_players, T.max_players),
                         ("zombie", "Zombie Siege", 20, 1, 4))  # fmt: skip
        self.assertEqual(list(T.settings_schema()),
                         ["max_players", "map", "difficulty", "waves", "horde"])  # fmt: skip
        self.assertTrue(T.blurb and T.help)

    def test_missing_settings_get_their_defaults(self):
        self.assertEqual(
            T.validate_settings(None),
            {"max_players": 4, "map": 0, "difficulty": 2, "waves": 8, "horde": 120},
        )

    def test_each_kind_of_bad_setting_is_refused_naming_the_field(self):
        for raw, field in (
            ({"map": 2}, "map"),
            ({"map": True}, "map"),
            ({"waves": 0}, "waves"),
            ({"difficulty": 1.0}, "difficulty"),
            ({"horde": 201}, "horde"),
            ({"max_players": 5}, "max_players"),
            ({"lives": 3}, "lives"),
        ):
            with self.subTest(raw=raw), self.assertRaises(SettingsError) as ctx:
                T.validate_settings(raw)
            self.assertEqual(ctx.exception.field, field)

    def test_a_match_takes_one_to_four_players(self):
        T.initial_state(players=1, seed=0, settings={})
        with self.assertRaises(SettingsError):
            T.initial_state(players=5, seed=0, settings={})

    def test_inputs_are_normalized(self):
        self.assertEqual(T.validate_input({}), {"mx": 0, "my": 0, "fire": False})
        inp = T.validate_input({"mx": -1, "my": 1, "aim": 4.0, "fire": True})
        self.assertAlmostEqual(inp["aim"], 4.0 - 2 * math.pi)
        self.assertEqual(T.validate_input(inp), inp)

    def test_bad_payloads_are_refused_with_a_reason_naming_the_key(self):
        for payload, field in (
            ({"mx": 2}, "mx"),
            ({"my": "up"}, "my"),
            ({"mx": True}, "mx"),
            ({"fire": 1}, "fire"),
            ({"aim": math.nan}, "aim"),
            ({"aim": 7.0}, "aim"),
            ({"jump": True}, "jump"),
        ):
            with self.subTest(payload=payload), self.assertRaises(InputError) as ctx:
                T.validate_input(payload)
            self.assertEqual(ctx.exception.field, field)
            self.assertTrue(ctx.exception.reason)
        with self.assertRaises(InputError):
            T.validate_input([1, 2])

    def test_an_unknown_slot_is_refused(self):
        with self.assertRaises(InputError):
            T.apply_input(siege(), 1, T.validate_input({}))


class MovementAndShotTests(unittest.TestCase):
    def test_a_player_walks_four_tiles_a_second_diagonals_as_fast(self):
        state = siege(team=[(12.5, 7.5)])
        feed(T, state, 0, {"mx": 1})
        for _ in range(T.tick_hz):
            T.step(state)
        self.assertAlmostEqual(state["team"][0]["x"], 16.5)
        state = siege(team=[(12.5, 7.5)])
        feed(T, state, 0, {"mx": 1, "my": 1})
        T.step(state)
        p = state["team"][0]
        self.assertAlmostEqual(math.hypot(p["x"] - 12.5, p["y"] - 7.5), rules.PLAYER_SPEED)

    def test_walls_stop_a_player_and_it_slides_along_them(self):
        state = siege(team=[(1.5, 1.5)])  # the office's top-left room, wall above
        feed(T, state, 0, {"mx": 1, "my": -1})
        for _ in range(40):
            T.step(state)
        p = state["team"][0]
        self.assertGreaterEqual(p["y"] - grid.R, 1.0)
        self.assertGreater(p["x"], 5.0)
        self.assertFalse(grid.blocked(MAPS[0].solid, MAPS[0].w, p["x"], p["y"]))

    def test_a_shot_kills_the_first_zombie_on_its_line_and_counts_a_kill(self):
        state = siege(team=[(12.5, 7.5)], zombies=[(17.5, 7.5), (15.5, 7.6)])
        feed(T, state, 0, {"aim": 0.0, "fire": True})
        T.step(state)
        self.assertEqual([z[0] for z in state["zombies"]], [1])
        self.assertEqual(state["team"][0]["kills"], 1)
        self.assertEqual(state["team"][0]["ammo"], rules.AMMO_START - 1)
        fire = next(e for e in state["events"] if e["e"] == "fire")
        self.assertAlmostEqual(fire["x"], 15.5, delta=0.4)

    def test_walls_stop_shots(self):
        # Office row 8 has a wall block at x 15-18 between the shooter and the zombie.
        state = siege(team=[(13.5, 8.5)], zombies=[(20.5, 8.5)])
        feed(T, state, 0, {"aim": 0.0, "fire": True})
        T.step(state)
        self.assertEqual(len(state["zombies"]), 1)
        fire = next(e for e in state["events"] if e["e"] == "fire")
        self.assertEqual(fire["x"], 15.0)

    def test_no_ammo_no_shot_and_a_cooldown_between_shots(self):
        state = siege(team=[(12.5, 7.5)])
        feed(T, state, 0, {"aim": 0.0, "fire": True})
        for _ in range(T.tick_hz):
            T.step(state)
        self.assertEqual(
            state["team"][0]["ammo"], rules.AMMO_START - T.tick_hz // rules.FIRE_COOLDOWN
        )
        state["team"][0]["ammo"] = 0
        T.step(state)
        self.assertFalse([e for e in state["events"] if e["e"] == "fire"])


class ZombieTests(unittest.TestCase):
    @PROPERTY
    @given(st.lists(st.integers(0, 10**6), min_size=1, max_size=4), st.integers(0, 1))
    def test_the_flow_field_is_one_bfs_from_every_standing_player(self, picks, index):
        tm = MAPS[index]
        floor = [i for i, s in enumerate(tm.solid) if not s]
        tiles = [floor[p % len(floor)] for p in picks]
        field = grid.flow_field(index, tiles)
        self.assertEqual([field(i) for i in range(tm.w * tm.h)], grid.bfs(tm, tiles))

    @PROPERTY
    @given(st.lists(st.integers(0, 10**6), min_size=1, max_size=4), st.integers(0, 1))
    def test_a_flow_step_is_the_nearest_link_min_picks(self, picks, index):
        tm = MAPS[index]
        floor = [i for i, s in enumerate(tm.solid) if not s]
        tiles = [floor[p % len(floor)] for p in picks]
        field = grid.flow_field(index, tiles)
        one = grid.bfs(tm, tiles)
        for t in floor:
            d, gx, gy = field.step(t)
            self.assertEqual(d, one[t])
            if d > 1:  # the rule as written: the first of the links nearest to a player
                best = min(tm.links[t], key=one.__getitem__)
                self.assertEqual((gx, gy), (best % tm.w + 0.5, best // tm.w + 0.5))
        self.assertIs(grid.flow_field(index, tiles[::-1] * 2), field)  # kept per set of tiles

    def test_clear_tiles_have_no_wall_within_a_zombie_step(self):
        for index, tm in enumerate(MAPS):
            for t, clear in enumerate(grid.CLEAR[index]):
                if not clear:
                    continue
                x, y = t % tm.w, t // tm.w
                # Every point of the tile moved by up to a zombie's fastest step.
                reach = max(rules.ZOMBIE_SPEED)
                for fx in (0.0, 0.5, 0.999999):
                    for fy in (0.0, 0.5, 0.999999):
                        for dx in (-reach, 0.0, reach):
                            for dy in (-reach, 0.0, reach):
                                self.assertFalse(
                                    grid.blocked(tm.solid, tm.w, x + fx + dx, y + fy + dy)
                                )
            self.assertTrue(any(grid.CLEAR[index]))

    @PROPERTY
    @given(st.one_of(st.floats(-5.0, 50.0), st.integers(-50, 500).map(lambda k: k / 10 + 0.05),
                     st.integers(-50, 500).map(lambda k: k / 20)))  # fmt: skip
    def test_r1_is_round_to_one_decimal(self, x):
        for v in (x, math.nextafter(x, math.inf), math.nextafter(x, -math.inf)):
            self.assertEqual(repr(rules.r1(v)), repr(round(v, 1) + 0.0))

    def test_a_zombie_walks_around_a_wall_to_the_player(self):
        # Player in the office's top-left room; the zombie outside it, below its wall.
        state = siege(team=[(3.5, 3.5)], zombies=[(3.5, 7.5)])
        state["team"][0]["hp"] = 10**6
        for _ in range(400):
            T.step(state)
            z = state["zombies"][0]
            self.assertFalse(grid.blocked(MAPS[0].solid, MAPS[0].w, z[1], z[2]))
        z = state["zombies"][0]
        self.assertLess(math.hypot(z[1] - 3.5, z[2] - 3.5), rules.BITE_REACH)
        self.assertLess(state["team"][0]["hp"], 10**6)

    def test_a_bite_hurts_once_a_second_and_a_player_at_zero_goes_down(self):
        state = siege(team=[(12.5, 7.5)], zombies=[(13.0, 7.5)])
        T.step(state)
        damage = rules.ZOMBIE_DAMAGE[1]
        self.assertEqual(state["team"][0]["hp"], rules.HP - damage)
        for _ in range(rules.BITE_COOLDOWN):
            T.step(state)
        self.assertEqual(state["team"][0]["hp"], rules.HP - 2 * damage)
        state["team"][0]["hp"] = 1
        for _ in range(rules.BITE_COOLDOWN + 1):
            T.step(state)
        self.assertTrue(state["team"][0]["down"])
        self.assertTrue(T.is_finished(state))
        self.assertEqual(T.result(state)["reason"], "all_down")

    def test_zombies_ignore_a_downed_player_and_a_standing_teammate_revives_them(self):
        state = siege(2, team=[(12.5, 7.5), (13.2, 7.5)], zombies=[(30.5, 20.5)])
        state["team"][0].update(hp=0, down=True)
        for _ in range(rules.REVIVE_TICKS - 1):
            T.step(state)
        self.assertTrue(state["team"][0]["down"])
        T.step(state)
        self.assertEqual(
            (state["team"][0]["down"], state["team"][0]["hp"]), (False, rules.REVIVED_HP)
        )
        self.assertIn({"e": "revive", "slot": 0, "by": 1}, state["events"])

    def test_a_firing_teammate_does_not_revive(self):
        state = siege(2, team=[(12.5, 7.5), (13.2, 7.5)])
        state["team"][0].update(hp=0, down=True)
        feed(T, state, 1, {"fire": True, "aim": 0.0})
        for _ in range(rules.REVIVE_TICKS + 5):
            T.step(state)
        self.assertTrue(state["team"][0]["down"])


class PickupAndWaveTests(unittest.TestCase):
    def test_walking_over_boxes_refills_ammo_and_health_up_to_the_caps(self):
        state = siege(team=[(12.5, 7.5)], pickups=[(0, 12.5, 7.5), (1, 12.5, 7.5)])
        state["team"][0].update(ammo=10, hp=90)
        T.step(state)
        self.assertEqual(state["team"][0]["ammo"], 10 + rules.AMMO_PICKUP)
        self.assertEqual(state["team"][0]["hp"], rules.HP)
        self.assertEqual(state["pickups"], [])

    def test_a_full_player_leaves_a_box_where_it_lies(self):
        state = siege(team=[(12.5, 7.5)], pickups=[(1, 12.5, 7.5)])
        T.step(state)
        self.assertEqual(state["pickups"], [[1, 12.5, 7.5]])

    def test_waves_grow_and_zombies_enter_at_the_spawn_points(self):
        self.assertLess(rules.wave_size(1, 1, 2), rules.wave_size(2, 1, 2))
        self.assertLess(rules.wave_size(3, 1, 2), rules.wave_size(3, 4, 2))
        state = T.initial_state(players=1, seed=4, settings={})
        state["team"][0]["hp"] = 10**6
        for _ in range(rules.FIRST_WAVE_IN):
            T.step(state)
        self.assertEqual(state["wave"], 1)
        self.assertIn({"e": "wave", "wave": 1}, state["events"])
        T.step(state)
        spawns = {(x + 0.5, y + 0.5) for x, y in MAPS[0].spawns}
        z = state["zombies"][0]
        self.assertTrue(any(abs(z[1] - x) <= 0.2 and abs(z[2] - y) <= 0.2 for x, y in spawns))

    def test_the_horde_setting_caps_the_zombies_up_at_once(self):
        state = T.initial_state(players=4, seed=4, settings={"horde": 10, "waves": 9})
        state.update(wave=8, next_wave_in=1)
        for p in state["team"]:
            p["hp"] = 10**6
        for _ in range(200):
            T.step(state)
            self.assertLessEqual(len(state["zombies"]), 10)
        self.assertGreater(state["to_spawn"], 0)

    def test_clearing_the_last_wave_ends_the_match(self):
        state = siege(team=[(12.5, 7.5)], settings={"waves": 2})
        state.update(wave=2, next_wave_in=0, to_spawn=0)
        T.step(state)
        self.assertTrue(T.is_finished(state))
        result = T.result(state)
        self.assertEqual((result["reason"], result["winner"]), ("waves_cleared", None))
        self.assertTrue(result["summary"].startswith("wave 2/2"))


class EndAndForfeitTests(unittest.TestCase):
    def test_a_forfeit_takes_the_player_out_and_the_others_play_on(self):
        state = siege(2, team=[(12.5, 7.5), (13.5, 7.5)])
        T.forfeit(state, 1)
        self.assertFalse(T.is_finished(state))
        self.assertEqual(T.result(state)["forfeited"], [1])
        T.forfeit(state, 0)
        self.assertEqual(T.result(state)["reason"], "forfeit")

    def test_the_ranking_is_by_kills_and_nobody_wins_alone(self):
        state = siege(3)
        for p, k in zip(state["team"], (2, 9, 4), strict=True):
            p["kills"] = k
        result = T.result(state)
        self.assertEqual((result["ranking"], result["scores"], result["winner"]),
                         ([1, 2, 0], [2, 9, 4], None))  # fmt: skip

    def test_a_finished_match_ignores_steps_inputs_and_forfeits(self):
        state = siege(team=[(12.5, 7.5)])
        T.forfeit(state, 0)
        before = roundtrip(state)
        T.step(state)
        feed(T, state, 0, {"mx": 1})
        T.forfeit(state, 0)
        self.assertEqual(state, before)

    def test_the_snapshot_has_what_the_browser_draws(self):
        state = siege(team=[(12.5, 7.5)], zombies=[(14.25, 7.5)])
        snap = T.snapshot(state)
        self.assertEqual((snap["w"], snap["h"], len(snap["tiles"])), (40, 24, 24))
        self.assertEqual(snap["zombies"], [[1, 14.2, 7.5]])
        self.assertEqual(set(snap["team"][0]), {"x", "y", "a", "mx", "my", "hp", "ammo", "down",
                                                "revive", "active", "kills"})  # fmt: skip
        assert_plain_json(self, snap, "snapshot")


class DeterminismTests(unittest.TestCase):
    @PROPERTY
    @given(seeds, st.integers(1, 4), st.integers(0, 1),
           st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 1), st.integers(-1, 1),
                              st.floats(-3.1, 3.1), st.booleans()), max_size=40))  # fmt: skip
    def test_the_same_seed_and_inputs_give_the_same_states_across_json_round_trips(
        self, seed, players, index, moves
    ):
        settings = {"map": index, "difficulty": 3}
        a = T.initial_state(players=players, seed=seed, settings=settings)
        b = roundtrip(a)
        for n in range(260):
            for slot in range(players):
                if moves and n % 7 == 0:
                    _, mx, my, aim, fire = moves[(n // 7 + slot) % len(moves)]
                    inp = {"mx": mx, "my": my, "aim": aim, "fire": fire}
                else:
                    inp = T.bot_input(a, slot)
                if inp is not None:
                    feed(T, a, slot, inp)
                    feed(T, b, slot, inp)
            T.step(a)
            b = roundtrip(T.step(b))
            self.assertEqual(a, b)
        assert_plain_json(self, a)

    @PROPERTY
    @given(seeds, st.integers(1, 4))
    def test_bots_only_produce_valid_inputs_and_kills_never_go_down(self, seed, players):
        last = [0] * players

        def check(state, inputs):
            for inp in inputs.values():
                self.assertEqual(T.validate_input(inp), inp)
            kills = [p["kills"] for p in state["team"]]
            self.assertTrue(all(k >= old for k, old in zip(kills, last, strict=True)))
            last[:] = kills

        run_bots(T, players=players, seed=seed, settings={"waves": 2}, max_ticks=900, on_tick=check)

    def test_a_replay_of_the_input_log_arrives_at_the_same_states(self):
        # Slot 0 human (inputs logged as the engine logs them), slot 1 a bot.
        settings = T.validate_settings({"waves": 2, "map": 1})
        live = T.initial_state(players=2, seed=11, settings=settings)
        log, states = [], []
        for n in range(600):
            entries = []
            if n % 9 == 0:
                inp = T.validate_input({"mx": (n // 9) % 3 - 1, "my": 1 - (n // 27) % 3,
                                        "aim": (n % 6) - 3.0, "fire": n % 2 == 0})  # fmt: skip
                entries = [["i", 0, inp]]
                T.apply_input(live, 0, inp)
            bot = T.bot_input(live, 1)
            if bot is not None:
                T.apply_input(live, 1, bot)
            if entries:
                log.append([live["tick"], entries])
            T.step(live)
            states.append(roundtrip(live))
            if T.is_finished(live):
                break
        replayed = [roundtrip(s) for s in replay.states(
            title="zombie", players=2, bots=(1,), seed=11, settings=settings, log=log,
            max_ticks=len(states))][1:len(states) + 1]  # fmt: skip
        self.assertEqual(replayed, states)
