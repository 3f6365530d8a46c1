"""A title that lives only in tests/ (tests.titles.dots), enabled through ARCADE_TITLES in
this process: the API, the lobby and its match page find it, and collectstatic (the
production storage, hashed names) serves its browser module through the title finder."""

import json
import re
import tempfile
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import TestCase, override_settings

from frontend.finders import TitleFinder
from matches import services

WITH_DOTS = ["matches.titles.pong", "tests.titles.dots"]
DOTS_BROWSER = Path(__file__).resolve().parents[1] / "titles" / "dots" / "browser"


class TitleFinderTests(TestCase):
    @override_settings(ARCADE_TITLES=WITH_DOTS)
    def test_a_registered_title_s_browser_folder_is_found_under_titles_and_its_name(self):
        self.assertEqual(TitleFinder().find("titles/dots/index.js"), str(DOTS_BROWSER / "index.js"))
        self.assertEqual(finders.find("titles/dots/index.js"), str(DOTS_BROWSER / "index.js"))
        listed = {(storage.prefix, path) for path, storage in TitleFinder().list(None)}
        self.assertIn(("titles/dots", "index.js"), listed)
        self.assertIn(("titles/pong", "render.js"), listed)

    def test_a_title_left_out_of_the_setting_is_not_served(self):
        self.assertEqual(TitleFinder().find("titles/dots/index.js"), [])
        self.assertEqual(TitleFinder().find("titles/dots/index.js", find_all=True), [])
        self.assertNotIn("titles/dots", {s.prefix for _, s in TitleFinder().list(None)})

    def test_a_path_outside_the_browser_folder_is_refused(self):
        with self.assertRaises(Exception):  # noqa: B017 - Django's SuspiciousFileOperation
            TitleFinder().find("titles/pong/../rules.py")


class TestTitlePageTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._static = tempfile.TemporaryDirectory()
        cls._settings = override_settings(ARCADE_TITLES=WITH_DOTS, STATIC_ROOT=cls._static.name)
        cls._settings.enable()
        call_command("collectstatic", interactive=False, verbosity=0)

    @classmethod
    def tearDownClass(cls):
        cls._settings.disable()
        cls._static.cleanup()
        super().tearDownClass()

    def test_collectstatic_writes_the_test_title_s_module_under_a_hashed_name(self):
        manifest = json.loads((Path(self._static.name) / "staticfiles.json").read_text())
        hashed = manifest["paths"]["titles/dots/index.js"]
        self.assertRegex(hashed, r"^titles/dots/index\.[0-9a-f]{12}\.js$")
        self.assertIn("export function draw", (Path(self._static.name) / hashed).read_text())

    def test_the_api_lists_the_test_title_with_its_blurb(self):
        titles = {t["name"]: t for t in self.client.get("/api/titles").json()["titles"]}
        self.assertEqual(list(titles), ["pong", "dots"])
        self.assertEqual(titles["dots"]["blurb"], "A test title: steer your dot to the star.")
        self.assertEqual(titles["dots"]["settings"]["score_to"]["default"], 3)

    def test_the_lobby_offers_the_test_title_a_card(self):
        response = self.client.get("/")
        self.assertContains(response, 'data-title="dots"')
        self.assertContains(response, "A test title: steer your dot to the star.")
        self.assertNotContains(response, 'data-title="snake"')

    def test_its_match_page_imports_its_hashed_module_and_shows_its_help(self):
        match = services.match_create(title="dots")
        response = self.client.get(f"/m/{match.public_id}/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        config = json.loads(re.search(r'id="match-config"[^>]*>(.*?)</script>', html).group(1))
        self.assertEqual(config["title"], "dots")
        self.assertRegex(config["module"], r"^/static/titles/dots/index\.[0-9a-f]{12}\.js$")
        self.assertContains(response, '<p class="help">Move one cell with the arrow keys.</p>')
        importmap = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html).group(1))
        self.assertEqual(importmap["imports"]["/static/titles/dots/index.js"], config["module"])
