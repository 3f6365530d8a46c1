"""The title registry and what every title promises the engine."""

from __future__ import annotations

import ast
import json
import pathlib
import unittest

from hypothesis import given
from hypothesis import strategies as st

import matches.titles as games
from matches.titles import GameError, InputError, SettingsError, Title, get_title
from tests.matches.titles.helpers import PROPERTY, assert_plain_json, json_values, roundtrip

SPEC = {
    # name: (label, tick_hz, min, max, default max_players, pauses_on_disconnect)
    "pong": ("Pong", 30, 2, 2, 2, True),
    "snake": ("Snake", 10, 2, 8, 4, False),
    "arena": ("Thrust Arena", 30, 2, 64, 8, False),
    "zombie": ("Zombie Siege", 20, 1, 4, 4, False),
}
RATING_SYSTEMS = {
    "pong": "elo",
    "snake": "openskill",
    "arena": "openskill",
    "zombie": "openskill",
}  # docs/titles.md
RESULT_KEYS = {"scores", "winner", "ranking", "summary", "finished", "reason", "forfeited"}
PACKAGE = pathlib.Path(games.__file__).parent


class RegistryTests(unittest.TestCase):
    def test_the_registry_holds_the_three_titles_under_their_names(self):
        self.assertEqual(set(games.TITLES), set(SPEC))
        for name, title in games.TITLES.items():
            self.assertIsInstance(title, Title)
            self.assertEqual(title.name, name)
            self.assertIs(get_title(name), title)

    def test_an_unknown_title_is_a_game_error_with_its_code(self):
        for name in ("chess", "", "Pong", None, 3):
            with self.subTest(name=name), self.assertRaises(GameError) as ctx:
                get_title(name)
            self.assertEqual(ctx.exception.code, "unknown_title")
            self.assertTrue(ctx.exception.reason)

    def test_the_error_classes_carry_a_code_and_a_reason(self):
        self.assertTrue(issubclass(SettingsError, GameError))
        self.assertTrue(issubclass(InputError, GameError))
        err = SettingsError("score_to must be an integer", field="score_to")
        self.assertEqual((err.code, err.reason, str(err)), ("bad_settings", err.reason, err.reason))
        self.assertEqual(InputError("x").code, "bad_input")
        self.assertEqual(GameError("x", code="busy").as_dict(), {"code": "busy", "reason": "x"})
        self.assertEqual(err.as_dict()["field"], "score_to")

    def test_every_title_has_the_agreed_class_attributes(self):
        for name, (label, hz, lo, hi, default, pauses) in SPEC.items():
            t = get_title(name)
            with self.subTest(name):
                self.assertEqual(
                    (t.label, t.version, t.tick_hz, t.min_players, t.max_players),
                    (label, 1, hz, lo, hi),
                )
                self.assertIs(t.pauses_on_disconnect, pauses)
                self.assertEqual(t.validate_settings(None)["max_players"], default)
                self.assertEqual(t.settings_schema()["max_players"]["default"], default)
                self.assertEqual(json.loads(json.dumps(t.describe()))["name"], name)
                self.assertEqual(t.rating_system, RATING_SYSTEMS[name])

    def test_every_registered_title_names_a_rating_system_the_domain_knows(self):
        from matches import ratings

        for name, title in games.TITLES.items():
            with self.subTest(name):
                self.assertIn(title.rating_system, ratings.SYSTEMS)

    def test_every_title_runs_the_whole_interface_in_plain_json(self):
        for name, title in games.TITLES.items():
            with self.subTest(name):
                settings = title.validate_settings({"max_players": title.max_players})
                state = title.initial_state(players=title.max_players, seed=7, settings=settings)
                self.assertEqual(state["tick"], 0)
                for _ in range(40):
                    for slot in range(title.max_players):
                        inp = title.bot_input(state, slot)
                        if inp is not None:
                            title.apply_input(state, slot, title.validate_input(inp))
                    title.step(state)
                self.assertEqual(state["tick"], 40)
                assert_plain_json(self, state)
                snap = title.snapshot(state)
                assert_plain_json(self, snap, "snapshot")
                self.assertEqual(snap["tick"], 40)
                self.assertEqual(len(snap["scores"]), title.max_players)
                result = title.result(state)
                self.assertEqual(set(result), RESULT_KEYS)
                self.assertFalse(result["finished"])
                self.assertEqual(sorted(result["ranking"]), list(range(title.max_players)))
                self.assertEqual(roundtrip(state), state)

    def test_forfeiting_all_but_one_player_ends_every_title_with_that_player_winning(self):
        for name, title in games.TITLES.items():
            if title.cooperative:
                continue  # the last player plays on, and the team never has a winner
            with self.subTest(name):
                players = min(title.max_players, 4)
                settings = {"max_players": title.max_players}
                state = title.initial_state(players=players, seed=1, settings=settings)
                for slot in range(1, players):
                    self.assertFalse(title.is_finished(state))
                    title.forfeit(state, slot)
                self.assertTrue(title.is_finished(state))
                result = title.result(state)
                self.assertEqual(result["winner"], 0)
                self.assertEqual(result["forfeited"], list(range(1, players)))
                before = roundtrip(state)
                title.step(state)
                self.assertEqual(state, before)

    def test_the_rules_use_no_django_io_clock_or_global_randomness(self):
        forbidden = {"django", "random", "time", "datetime", "os", "io", "socket", "threading"}
        rules = [PACKAGE / "base.py", PACKAGE / "rng.py"]
        # The registry (this package's __init__) reads a setting by design; a title's load
        # policy and benchmark are tooling, not rules.
        for name in games.TITLES:
            folder = pathlib.Path(games.title_package(name).__file__).parent
            rules += [path for path in sorted(folder.glob("*.py"))
                      if path.name not in ("loadtest.py", "bench.py")]  # fmt: skip
        for path in rules:
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                for n in names:
                    with self.subTest(str(path), module=n):
                        self.assertNotIn(n.split(".")[0], forbidden)

    @PROPERTY
    @given(
        st.sampled_from(sorted(SPEC)),
        st.integers(0, 2**63),
        st.lists(
            st.tuples(st.sampled_from(["step", "step", "step", "bot", "raw", "forfeit"]),
                      st.integers(0, 15), json_values),
            max_size=120,
        ),
    )  # fmt: skip
    def test_any_mix_of_steps_inputs_and_forfeits_keeps_a_consistent_state(self, name, seed, ops):
        title = get_title(name)
        players = min(title.max_players, 4)
        state = title.initial_state(
            players=players, seed=seed, settings={"max_players": title.max_players}
        )
        for op, slot, payload in ops:
            slot %= players
            if op == "step":
                title.step(state)
            elif op == "bot":
                inp = title.bot_input(state, slot)
                if inp is not None:
                    title.apply_input(state, slot, inp)
            elif op == "raw":
                try:
                    inp = title.validate_input(payload)
                except InputError:
                    continue
                title.apply_input(state, slot, inp)
            else:
                title.forfeit(state, slot)
        assert_plain_json(self, state)
        self.assertEqual(roundtrip(state), state)
        result = title.result(state)
        self.assertEqual(sorted(result["ranking"]), list(range(players)))
        self.assertEqual(len(result["scores"]), players)
        self.assertTrue(all(score >= 0 for score in result["scores"]))
        if result["winner"] is not None:
            self.assertEqual(result["ranking"][0], result["winner"])
            self.assertNotIn(result["winner"], result["forfeited"])
        json.dumps(title.snapshot(state), allow_nan=False)

    @PROPERTY
    @given(st.sampled_from(sorted(SPEC)), st.dictionaries(st.text(max_size=12), json_values))
    def test_any_settings_object_is_either_completed_or_refused_cleanly(self, name, raw):
        title = get_title(name)
        try:
            clean = title.validate_settings(raw)
        except SettingsError as exc:
            self.assertTrue(exc.reason)
            return
        self.assertEqual(set(clean), set(title.settings_schema()))
        self.assertEqual(title.validate_settings(clean), clean)

    @PROPERTY
    @given(
        st.sampled_from(sorted(SPEC)),
        st.fixed_dictionaries({}, optional={"max_players": st.integers(2, 16)}),
    )
    def test_valid_settings_complete_to_the_schema_defaults(self, name, raw):
        title = get_title(name)
        try:
            clean = title.validate_settings(raw)
        except SettingsError:
            self.assertGreater(raw["max_players"], title.max_players)
            return
        for key, field in title.settings_schema().items():
            self.assertEqual(clean[key], raw.get(key, field["default"]))


if __name__ == "__main__":
    unittest.main()
