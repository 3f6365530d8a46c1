"""POST /api/quickplay and /api/quickplay/cancel over HTTP, with sessions and CSRF."""

import json

from django.test import Client, TestCase, override_settings

from matches.models import Match
from tests.support.stack import flush_redis


def person(name: str | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.get("/api/csrf")
    if name:
        post(client, "/api/me", {"display_name": name})
    return client


def post(client: Client, path: str, body) -> tuple[int, dict]:
    response = client.post(
        path,
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    return response.status_code, response.json()


@override_settings(QUICKPLAY_BOT_AFTER_S=60)
class QuickPlayApiTests(TestCase):
    def setUp(self):
        flush_redis()

    def test_two_players_asking_for_the_same_title_end_up_in_one_match(self):
        ann, bob = person("ann"), person("bob")
        status, reply = post(ann, "/api/quickplay", {"title": "pong"})
        self.assertEqual(status, 200)
        self.assertEqual(reply["ticket"]["status"], "waiting")
        self.assertEqual(reply["ticket"]["bots_after_s"], 60)
        _, reply = post(bob, "/api/quickplay", {"title": "pong"})
        self.assertEqual(reply["ticket"]["status"], "matched")
        match_id = reply["ticket"]["match"]
        _, reply = post(ann, "/api/quickplay", {"title": "pong"})
        self.assertEqual(reply["ticket"]["match"], match_id)
        # Both see their seat through the lobby API.
        detail = ann.get(f"/api/matches/{match_id}").json()["match"]
        self.assertEqual((detail["your_slot"], detail["status"]), (0, Match.Status.COUNTDOWN))

    def test_cancel_leaves_the_queue(self):
        ann, bob = person("ann"), person("bob")
        post(ann, "/api/quickplay", {"title": "snake"})
        status, reply = post(ann, "/api/quickplay/cancel", {"title": "snake"})
        self.assertEqual((status, reply), (200, {"ticket": None}))
        _, reply = post(bob, "/api/quickplay", {"title": "snake"})
        self.assertEqual(reply["ticket"]["status"], "waiting")

    def test_refusals_say_why_in_the_lobby_api_s_error_shape(self):
        ann = person("ann")
        cases = [
            (person(None), {"title": "pong"}, 403, "no_player"),
            (ann, {"title": "chess"}, 400, "unknown_title"),
            (ann, {"title": 3}, 400, "bad_request"),
            (ann, {"title": "pong", "slot": 1}, 400, "bad_request"),
            (ann, "[", 400, "bad_json"),
            # Was a 500: nesting past the parser's recursion limit is not a ValueError.
            (ann, "[" * 100_000, 400, "bad_json"),
            (ann, '{"title": NaN}', 400, "bad_json"),
        ]
        for client, body, status, code in cases:
            with self.subTest(body=str(body)[:40], code=code):
                got, reply = post(client, "/api/quickplay", body)
                self.assertEqual((got, reply["error"]), (status, code))
                self.assertTrue(reply["reason"])

    def test_it_needs_post_and_the_csrf_token(self):
        ann = person("ann")
        response = ann.get("/api/quickplay")
        self.assertEqual(
            (response.status_code, response.json()["error"]), (405, "method_not_allowed")
        )
        response = ann.post("/api/quickplay", {"title": "pong"}, content_type="application/json")
        self.assertEqual(response.status_code, 403)
