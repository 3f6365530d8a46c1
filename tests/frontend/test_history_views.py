"""The pages for looking back: replay viewer, player page, leaderboards, and the links to them
from the lobby and the match page."""

import json
import re

from django.test import TestCase

from matches import services
from matches.models import Match, Player
from tests.support.replays import finished_with_replay


def page_config(response, element_id: str) -> dict:
    html = response.content.decode()
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html).group(1))


class ReplayPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.match, cls.final = finished_with_replay()

    def test_the_viewer_gets_what_it_needs_to_fetch_and_draw_the_frames(self):
        response = self.client.get(f"/m/{self.match.public_id}/replay/")
        self.assertEqual(response.status_code, 200)
        config = page_config(response, "replay-config")
        self.assertEqual(
            (config["match"], config["title"], config["tick_hz"], config["ticks"], config["chunk"]),
            (self.match.public_id, "pong", 30, 924, 300),
        )
        self.assertEqual([p["name"] for p in config["players"]], ["ann", "bob"])
        result = {"winner": 1, "headline": "bob wins", "summary": "1\u20133"}
        self.assertEqual(config["result"], result)
        self.assertContains(response, 'max="924"')
        self.assertContains(response, "0:30")  # the duration
        self.assertContains(response, "frontend/replay.")  # the module (hashed name)
        ann = self.match.participations.get(slot=0).player
        self.assertContains(response, f'href="/players/{ann.pk}/"')

    def test_a_replay_the_api_serves_ends_on_the_result_the_page_shows(self):
        body = self.client.get(f"/api/matches/{self.match.public_id}/replay?from=900").json()
        self.assertEqual(body["frames"][-1], self.final)
        self.assertEqual(self.final["scores"], [1, 3])

    def test_no_match_or_no_replay_is_a_404(self):
        self.assertEqual(self.client.get("/m/nosuchmatch/replay/").status_code, 404)
        unfinished = services.match_create(title="pong")
        self.assertEqual(self.client.get(f"/m/{unfinished.public_id}/replay/").status_code, 404)

    def test_the_lobby_results_and_the_match_page_link_to_the_replay(self):
        link = f'href="/m/{self.match.public_id}/replay/"'
        self.assertContains(self.client.get("/lobby/results"), link)
        self.assertContains(self.client.get("/"), "Watch replay")
        page = self.client.get(f"/m/{self.match.public_id}/")
        self.assertRegex(page.content.decode(), rf'<a id="watch-replay" class="button" {link} >')

    def test_a_finished_match_without_a_replay_offers_none(self):
        match, _ = finished_with_replay(names=("cy", "dee"))
        match.replay.delete()
        results = self.client.get("/lobby/results").content.decode()
        self.assertIn(self.match.public_id, results)
        self.assertNotIn(f"/m/{match.public_id}/replay/", results)
        page = self.client.get(f"/m/{match.public_id}/").content.decode()
        self.assertRegex(page, r'<a id="watch-replay"[^>]* hidden>')

    def test_a_match_played_under_other_rules_offers_no_replay(self):
        match, _ = finished_with_replay(names=("cy", "dee"))
        Match.objects.filter(pk=match.pk).update(rules_version=match.rules_version + 1)
        results = self.client.get("/lobby/results").content.decode()
        self.assertIn(self.match.public_id, results)
        self.assertIn(f"/m/{self.match.public_id}/replay/", results)
        self.assertNotIn(f"/m/{match.public_id}/replay/", results)
        page = self.client.get(f"/m/{match.public_id}/").content.decode()
        self.assertRegex(page, r'<a id="watch-replay"[^>]* hidden>')
        body = self.client.get(f"/api/matches/{match.public_id}").json()["match"]
        self.assertIs(body["has_replay"], False)
        gone = self.client.get(f"/m/{match.public_id}/replay/")
        self.assertContains(gone, "earlier version of Pong", status_code=410)

    def test_the_match_json_says_whether_there_is_a_replay(self):
        finished = self.client.get(f"/api/matches/{self.match.public_id}").json()["match"]
        self.assertIs(finished["has_replay"], True)
        waiting = services.match_create(title="snake")
        body = self.client.get(f"/api/matches/{waiting.public_id}").json()["match"]
        self.assertIs(body["has_replay"], False)
        ann = self.match.participations.get(slot=0).player
        history = self.client.get(f"/api/players/{ann.pk}").json()["matches"]
        self.assertEqual([m["has_replay"] for m in history], [True])


class PlayerPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.match, _ = finished_with_replay()
        cls.ann = cls.match.participations.get(slot=0).player
        cls.bob = cls.match.participations.get(slot=1).player

    def test_history_with_results_replays_and_ratings_per_title(self):
        waiting = services.match_create(title="snake")
        services.match_join(match_id=waiting.pk, player=self.ann)
        response = self.client.get(f"/players/{self.ann.pk}/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("<h1>ann", html)
        # Ratings: ann lost her only rated Pong match to bob (1200 - 16).
        ratings = re.search(r'<tr data-title="pong">(.*?)</tr>', html, re.S).group(1)
        self.assertEqual(re.findall(r"<td[^>]*>(\d+)</td>", ratings), ["1184", "1", "0", "1", "0"])
        # History, newest first: the open Snake match, then the lost Pong match and its replay.
        rows = re.findall(r'<tr data-match="([^"]+)">(.*?)</tr>', html, re.S)
        self.assertEqual([r[0] for r in rows], [waiting.public_id, self.match.public_id])
        pong = rows[1][1]
        self.assertIn("Loss", pong)
        self.assertIn("1\u20133", pong)
        self.assertIn(f'href="/players/{self.bob.pk}/">bob</a>', pong)
        replay = f'href="/m/{self.match.public_id}/replay/"><span class="long">Watch replay'
        self.assertIn(replay, pong)
        self.assertIn("Waiting for players", rows[0][1])
        self.assertNotIn("Watch replay", rows[0][1])

    def test_the_winner_s_page_and_one_with_no_matches(self):
        html = self.client.get(f"/players/{self.bob.pk}/").content.decode()
        self.assertIn('class="outcome outcome-win">Win</td>', html)
        nobody = services.player_create(display_name="zed")
        response = self.client.get(f"/players/{nobody.pk}/")
        self.assertContains(response, "No rated matches yet")
        self.assertContains(response, "No matches yet.")

    def test_an_unknown_player_is_a_404(self):
        self.assertEqual(self.client.get("/players/999999/").status_code, 404)
        self.assertEqual(self.client.get("/players/ann/").status_code, 404)

    def test_the_header_links_to_your_own_page(self):
        self.client.post("/api/me", {"display_name": "eve"}, content_type="application/json")
        eve = Player.objects.get(display_name="eve")
        response = self.client.get("/")
        self.assertContains(response, f'<a href="/players/{eve.pk}/"><strong id="who-name">eve')
        self.assertContains(self.client.get(f"/players/{eve.pk}/"), "eve <small>(you)</small>")


class LeaderboardPageTests(TestCase):
    def test_rated_players_best_first_with_links_to_their_pages(self):
        match, _ = finished_with_replay()
        bob = match.participations.get(slot=1).player
        response = self.client.get("/leaderboard/pong/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        rows = re.findall(r'<tr data-player="(\d+)"[^>]*>(.*?)</tr>', html, re.S)
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0][0], str(bob.pk))
        self.assertIn(f'<a href="/players/{bob.pk}/">bob</a>', rows[0][1])
        self.assertIn('<td class="rating">1216</td>', rows[0][1])
        self.assertIn('<td class="rating">1184</td>', rows[1][1])
        self.assertIn('aria-current="page">Pong</a>', html)
        self.assertIn('href="/leaderboard/arena/"', html)

    def test_a_title_nobody_is_rated_in_yet_and_an_unknown_title(self):
        self.assertContains(self.client.get("/leaderboard/snake/"), "Nobody is rated in Snake yet")
        self.assertEqual(self.client.get("/leaderboard/chess/").status_code, 404)

    def test_every_page_s_header_and_the_lobby_cards_link_to_the_leaderboards(self):
        html = self.client.get("/").content.decode()
        for title in ("pong", "snake", "arena"):
            self.assertIn(f'href="/leaderboard/{title}/"', html)
