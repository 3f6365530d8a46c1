import json
import re

from django.test import TestCase

from matches import services
from matches.models import Player


class HomePageTests(TestCase):
    def test_the_home_page_lists_open_matches_and_the_titles(self):
        match = services.match_create(title="snake")
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, match.public_id)
        self.assertContains(response, "Snake")
        self.assertContains(
            response, '<p class="blurb">Two paddles, one ball. Arrow keys or W/S.</p>'
        )

    def test_the_create_forms_follow_each_title_s_settings_schema(self):
        html = self.client.get("/").content.decode()
        score_to = re.search(r'<input type="number" name="score_to"[^>]*>', html).group(0)
        for attribute in ('data-type="int"', 'value="11"', 'min="1"', 'max="21"', 'step="1"'):
            self.assertIn(attribute, score_to)
        respawn = re.search(r'<input type="number" name="respawn_s"[^>]*>', html).group(0)
        self.assertIn('data-type="float"', respawn)
        # Pong's two seats are not a choice; Snake's 2-8 are.
        pong_form = html[html.index('data-title="pong"') : html.index('data-title="snake"')]
        self.assertNotIn('name="max_players"', pong_form)
        self.assertIn('name="max_players"', html[html.index('data-title="snake"') :])

    def test_pages_load_their_modules_through_an_import_map_of_hashed_files(self):
        html = self.client.get("/").content.decode()
        importmap = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html).group(1))
        target = importmap["imports"]["/static/frontend/net.js"]
        self.assertRegex(target, r"^/static/frontend/net\.[0-9a-f]{12}\.js$")
        # Each title's browser modules too (served from its package's browser/ folder).
        target = importmap["imports"]["/static/titles/snake/render.js"]
        self.assertRegex(target, r"^/static/titles/snake/render\.[0-9a-f]{12}\.js$")

    def test_recent_results_come_alone_for_the_lobby_to_refresh(self):
        response = self.client.get("/lobby/results")
        self.assertContains(response, "No finished matches yet.")
        self.assertNotContains(response, "<html")


class MatchPageTests(TestCase):
    def setUp(self):
        self.match = services.match_create(title="pong")
        self.client.post("/api/me", {"display_name": "ann"}, content_type="application/json")
        self.ann = Player.objects.get(display_name="ann")

    def config(self, response) -> dict:
        html = response.content.decode()
        return json.loads(re.search(r'id="match-config"[^>]*>(.*?)</script>', html).group(1))

    def test_a_seated_player_gets_the_player_page(self):
        services.match_join(match_id=self.match.pk, player=self.ann)
        response = self.client.get(f"/m/{self.match.public_id}/")
        config = self.config(response)
        self.assertEqual((config["role"], config["slot"], config["title"]), ("player", 0, "pong"))
        self.assertRegex(config["module"], r"^/static/titles/pong/index\.[0-9a-f]{12}\.js$")
        self.assertContains(response, '<p class="help">Move with ↑ ↓ or W S.</p>')
        self.assertContains(response, 'id="spectator-banner" class="banner" role="status" hidden')
        self.assertContains(response, "Leave match")

    def test_anyone_else_watches_and_may_join_while_a_seat_is_free(self):
        page = f"/m/{self.match.public_id}/"
        response = self.client.get(page)
        config = self.config(response)
        self.assertEqual((config["role"], config["slot"]), ("spectator", None))
        self.assertContains(response, 'id="join"')
        for name in ("bob", "cy"):
            player = services.player_create(display_name=name)
            services.match_join(match_id=self.match.pk, player=player)
        response = self.client.get(page)
        self.assertNotContains(response, 'id="join"')
        config = self.config(response)
        self.assertEqual([p["name"] for p in config["players"]], ["bob", "cy"])
        self.assertEqual(config["status"], "countdown")

    def test_an_unknown_match_is_a_404(self):
        self.assertEqual(self.client.get("/m/nosuchmatch/").status_code, 404)

    def test_a_nul_in_the_match_id_is_a_404_on_every_database(self):
        # PostgreSQL's text cannot hold a NUL: the lookup raised there, a 500.
        for path in (f"/m/{self.match.public_id}%00/", f"/m/{self.match.public_id}%00/replay/"):
            with self.subTest(path):
                self.assertEqual(self.client.get(path).status_code, 404)
