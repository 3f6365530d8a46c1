import json

from django.test import Client, TestCase

from matches import services
from matches.models import Match, Participation, Player
from tests.support.stack import flush_redis


class ApiClient:
    """A browser: its own cookies, the CSRF token sent back on every POST."""

    def __init__(self) -> None:
        self.http = Client(enforce_csrf_checks=True)

    def get(self, url: str):
        return self.http.get(url)

    def post(self, url: str, body=None, *, raw: str | None = None, csrf: bool = True):
        if "csrftoken" not in self.http.cookies:
            self.http.get("/api/csrf")
        headers = {"HTTP_X_CSRFTOKEN": self.http.cookies["csrftoken"].value} if csrf else {}
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.http.post(url, data=data, content_type="application/json", **headers)

    def nickname(self, name: str) -> dict:
        response = self.post("/api/me", {"display_name": name})
        assert response.status_code == 200, response.content
        return response.json()["player"]


class ApiCase(TestCase):
    def setUp(self):
        flush_redis()
        self.ann = ApiClient()
        self.ann.nickname("ann")

    def create(self, client: ApiClient | None = None, **body) -> dict:
        response = (client or self.ann).post("/api/matches", {"title": "pong", **body})
        self.assertEqual(response.status_code, 201, response.content)
        return response.json()["match"]

    def assert_error(self, response, status: int, code: str) -> None:
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/json")
        body = response.json()
        self.assertEqual(body["error"], code)
        self.assertTrue(body["reason"])


class IdentityTests(ApiCase):
    def test_a_nickname_creates_a_guest_player_bound_to_the_session(self):
        me = self.ann.get("/api/me").json()["player"]
        self.assertEqual(me["display_name"], "ann")
        self.assertTrue(Player.objects.filter(pk=me["id"], display_name="ann").exists())

    def test_a_second_nickname_renames_the_same_player(self):
        first = self.ann.get("/api/me").json()["player"]
        second = self.ann.nickname("ann the second")
        self.assertEqual(first["id"], second["id"])
        self.assertEqual(Player.objects.count(), 1)

    def test_a_visitor_has_no_player(self):
        self.assertIsNone(ApiClient().get("/api/me").json()["player"])

    def test_a_bad_nickname_is_refused_with_its_code(self):
        self.assert_error(self.ann.post("/api/me", {"display_name": "  "}), 400, "bad_name")
        self.assert_error(self.ann.post("/api/me", {"display_name": 5}), 400, "bad_request")

    def test_reads_set_the_csrf_cookie_and_the_token_endpoint_returns_it(self):
        client = Client()
        response = client.get("/api/csrf")
        self.assertEqual(response.json()["csrf_token"] and "ok", "ok")
        self.assertIn("csrftoken", client.cookies)
        self.assertIn("csrftoken", Client().get("/api/titles").cookies)


class CsrfTests(ApiCase):
    def test_a_post_without_the_csrf_token_is_refused_in_json(self):
        self.assert_error(self.ann.post("/api/me", {"display_name": "x"}, csrf=False), 403,
                          "csrf_failed")  # fmt: skip

    def test_a_post_from_a_foreign_origin_is_refused(self):
        client = self.ann.http
        response = client.post(
            "/api/matches", data="{}", content_type="application/json",
            HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, HTTP_ORIGIN="http://evil.example",
        )  # fmt: skip
        self.assert_error(response, 403, "csrf_failed")


class LobbyTests(ApiCase):
    def test_titles_list_each_title_with_its_settings_schema(self):
        titles = {t["name"]: t for t in self.ann.get("/api/titles").json()["titles"]}
        self.assertIn("pong", titles)
        self.assertEqual(titles["pong"]["settings"]["score_to"]["type"], "int")

    def test_creating_a_match_seats_its_creator(self):
        match = self.create(settings={"score_to": 3})
        self.assertEqual((match["status"], match["your_slot"]), ("waiting", 0))
        self.assertEqual(match["settings"]["score_to"], 3)
        self.assertEqual(match["ws"], f"/ws/matches/{match['id']}/")
        self.assertEqual([p["name"] for p in match["players"]], ["ann"])

    def test_a_creator_may_stay_out_of_the_match(self):
        match = self.create(join=False)
        self.assertEqual((match["players"], match["your_slot"]), ([], None))

    def test_the_lobby_lists_open_matches(self):
        match = self.create()
        listed = self.ann.get("/api/matches").json()["matches"]
        self.assertEqual([m["id"] for m in listed], [match["id"]])
        self.assertEqual(self.ann.get("/api/matches?title=snake").json()["matches"], [])

    def test_a_second_player_joins_and_the_countdown_starts(self):
        match = self.create()
        bob = ApiClient()
        bob.nickname("bob")
        response = bob.post(f"/api/matches/{match['id']}/join")
        self.assertEqual(response.status_code, 200, response.content)
        joined = response.json()["match"]
        self.assertEqual((joined["status"], joined["your_slot"]), ("countdown", 1))
        self.assertIsNotNone(joined["starts_at"])
        detail = self.ann.get(f"/api/matches/{match['id']}").json()["match"]
        self.assertEqual((detail["your_slot"], len(detail["players"])), (0, 2))

    def test_leaving_a_waiting_match_frees_the_seat(self):
        match = self.create()
        response = self.ann.post(f"/api/matches/{match['id']}/leave")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["match"]["players"], [])

    def test_leaving_a_running_match_forfeits_the_seat(self):
        from realtime import store

        match = self.create()
        bob = ApiClient()
        bob.nickname("bob")
        bob.post(f"/api/matches/{match['id']}/join")
        pk = Match.objects.get(public_id=match["id"]).pk
        response = bob.post(f"/api/matches/{match['id']}/leave")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIsNotNone(Participation.objects.get(match_id=pk, slot=1).left_at)
        queued = [json.loads(x) for x in store.client().lrange(store.key(pk, "inputs"), 0, -1)]
        self.assertEqual(queued, [{"slot": 1, "presence": "off", "at": 1.0}])


class ErrorTests(ApiCase):
    def test_domain_errors_become_4xx_json_by_code(self):
        match = self.create()
        self.assert_error(self.ann.get("/api/matches/nope"), 404, "unknown_match")
        self.assert_error(self.ann.post("/api/matches/nope/join"), 404, "unknown_match")
        self.assert_error(self.ann.post(f"/api/matches/{match['id']}/join"), 409,
                          "already_joined")  # fmt: skip
        bob, cid = ApiClient(), ApiClient()
        bob.nickname("bob")
        cid.nickname("cid")
        bob.post(f"/api/matches/{match['id']}/join")
        self.assert_error(cid.post(f"/api/matches/{match['id']}/join"), 409, "match_full")
        self.assert_error(cid.post(f"/api/matches/{match['id']}/leave"), 403,
                          "not_a_participant")  # fmt: skip
        self.assert_error(self.ann.post("/api/matches", {"title": "chess"}), 400,
                          "unknown_title")  # fmt: skip
        self.assert_error(
            self.ann.post("/api/matches", {"title": "pong", "settings": {"score_to": 99}}),
            400, "bad_settings",
        )  # fmt: skip

    def test_a_visitor_without_a_nickname_cannot_create_or_join(self):
        match = self.create()
        visitor = ApiClient()
        self.assert_error(visitor.post("/api/matches", {"title": "pong"}), 403, "no_player")
        self.assert_error(visitor.post(f"/api/matches/{match['id']}/join"), 403, "no_player")

    def test_malformed_bodies_are_400_with_a_reason(self):
        cases = [
            ("{nope", "bad_json"),
            ('{"title": "pong", "settings": {"score_to": NaN}}', "bad_json"),
            ("[1]", "bad_request"),
            ('{"title": 5}', "bad_request"),
            ('{"title": "pong", "settings": [1]}', "bad_request"),
            ('{"title": "pong", "fill_with_bots": "yes"}', "bad_request"),
            ('{"title": "pong", "join": 1}', "bad_request"),
            ('{"title": "pong", "owner": 3}', "bad_request"),
            ('{"title": "pong", "settings": {"score_to": true}}', "bad_settings"),
        ]
        for raw, code in cases:
            with self.subTest(raw=raw):
                self.assert_error(self.ann.post("/api/matches", raw=raw), 400, code)
        self.assertEqual(Match.objects.count(), 0)

    def test_a_wrong_method_is_405_json(self):
        response = self.ann.get("/api/matches/x/join")
        self.assert_error(response, 405, "method_not_allowed")
        self.assertEqual(response["Allow"], "POST")

    def test_a_match_over_refuses_joins(self):
        match = self.create()
        pk = Match.objects.get(public_id=match["id"]).pk
        services.match_abort(match_id=pk, reason="test")
        bob = ApiClient()
        bob.nickname("bob")
        self.assert_error(bob.post(f"/api/matches/{match['id']}/join"), 409, "match_closed")
        detail = bob.get(f"/api/matches/{match['id']}").json()["match"]
        self.assertEqual((detail["status"], detail["abort_reason"]), ("aborted", "test"))
