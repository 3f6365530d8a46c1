"""ARCADE_TITLES: the title packages the registry discovers, and how a wrong entry is refused."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase, override_settings

from matches.titles import TITLES, GameError, get_title, title_package, title_part

ROOT = Path(__file__).resolve().parents[3]
WITH_DOTS = ["matches.titles.pong", "tests.titles.dots"]


class SettingTests(SimpleTestCase):
    def test_the_default_setting_registers_pong_snake_arena_and_zombie_in_that_order(self):
        self.assertEqual(list(TITLES), ["pong", "snake", "arena", "zombie"])
        self.assertEqual(title_package("arena").__name__, "matches.titles.arena")

    def test_the_environment_variable_lists_the_packages_separated_by_commas(self):
        env = {**os.environ, "ARCADE_TITLES": " matches.titles.snake, tests.titles.dots ,"}
        code = "from django.conf import settings; print(settings.ARCADE_TITLES)"
        out = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.assertEqual(out.stdout.strip(), "['matches.titles.snake', 'tests.titles.dots']")

    @override_settings(ARCADE_TITLES=WITH_DOTS)
    def test_a_package_named_in_the_setting_is_found_and_the_others_are_not(self):
        self.assertEqual(list(TITLES), ["pong", "dots"])
        self.assertEqual(get_title("dots").label, "Dots")
        with self.assertRaises(GameError):
            get_title("snake")

    @override_settings(ARCADE_TITLES=WITH_DOTS)
    def test_a_part_a_title_package_lacks_is_none(self):
        self.assertIsNone(title_part("dots", "loadtest"))
        self.assertEqual(title_part("pong", "loadtest").__name__, "matches.titles.pong.loadtest")

    @override_settings(ARCADE_TITLES=["matches.titles.pong", "matches.titles.chess"])
    def test_an_unknown_package_is_refused_by_name(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "'matches.titles.chess'"):
            list(TITLES)

    @override_settings(ARCADE_TITLES=["tests.titles"])
    def test_a_package_without_a_title_is_refused_by_name(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "'tests.titles' has no TITLE"):
            get_title("pong")

    @override_settings(ARCADE_TITLES=["matches.titles.pong", "matches.titles.pong"])
    def test_two_packages_of_the_same_title_name_are_refused(self):
        with self.assertRaisesMessage(ImproperlyConfigured, "both name their title 'pong'"):
            len(TITLES)
