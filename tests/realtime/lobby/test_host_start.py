"""POST /api/matches/<id>/start: the host says "go", with or without bots."""

from matches.models import Match
from tests.realtime.lobby.test_api import ApiCase, ApiClient


class HostStartTests(ApiCase):
    def friend(self, name: str) -> ApiClient:
        client = ApiClient()
        client.nickname(name)
        return client

    def test_a_lone_creator_asking_for_bots_gets_a_countdown_at_once(self):
        match = self.create(fill_with_bots=True)
        self.assertEqual((match["status"], match["your_slot"]), ("countdown", 0))
        self.assertIsNotNone(match["starts_at"])

    def test_the_host_starts_a_snake_match_of_three_friends_without_bots(self):
        match = self.create(title="snake", settings={"max_players": 6})
        self.assertEqual((match["host_slot"], match["min_players"]), (0, 2))
        for name in ("bob", "cid"):
            self.friend(name).post(f"/api/matches/{match['id']}/join")
        response = self.ann.post(f"/api/matches/{match['id']}/start", {"fill_with_bots": False})
        self.assertEqual(response.status_code, 200, response.content)
        started = response.json()["match"]
        self.assertEqual((started["status"], started["fill_with_bots"]), ("countdown", False))
        self.assertEqual(len(started["players"]), 3)

    def test_the_host_starts_alone_with_bots_in_the_empty_seats(self):
        match = self.create(title="arena")
        response = self.ann.post(f"/api/matches/{match['id']}/start", {"fill_with_bots": True})
        self.assertEqual(response.status_code, 200, response.content)
        row = Match.objects.get(public_id=match["id"])
        self.assertEqual((row.status, row.fill_with_bots), (Match.Status.COUNTDOWN, True))

    def test_start_by_a_non_host_is_refused(self):
        match = self.create(title="snake")
        bob = self.friend("bob")
        bob.post(f"/api/matches/{match['id']}/join")
        self.assert_error(bob.post(f"/api/matches/{match['id']}/start"), 403, "not_host")
        self.assert_error(self.friend("eve").post(f"/api/matches/{match['id']}/start"), 403,
                          "not_host")  # fmt: skip
        self.assert_error(ApiClient().post(f"/api/matches/{match['id']}/start"), 403, "no_player")

    def test_start_below_the_minimum_without_bots_is_refused(self):
        match = self.create(title="snake")
        response = self.ann.post(f"/api/matches/{match['id']}/start", {"fill_with_bots": False})
        self.assert_error(response, 409, "too_few_players")
        self.assertEqual(Match.objects.get(public_id=match["id"]).status, Match.Status.WAITING)

    def test_a_started_match_cannot_be_started_again_and_bad_bodies_are_400(self):
        match = self.create(title="snake")
        url = f"/api/matches/{match['id']}/start"
        self.assert_error(self.ann.post(url, {"fill_with_bots": "yes"}), 400, "bad_request")
        self.assert_error(self.ann.post(url, {"bots": True}), 400, "bad_request")
        self.assert_error(self.ann.post(url, raw="{nope"), 400, "bad_json")
        self.ann.post(url, {"fill_with_bots": True})
        self.assert_error(self.ann.post(url, {"fill_with_bots": True}), 409, "match_closed")
        self.assert_error(self.ann.post("/api/matches/nope/start"), 404, "unknown_match")

    def test_when_the_host_leaves_the_next_seat_hosts(self):
        match = self.create(title="snake")
        bob, cid = self.friend("bob"), self.friend("cid")
        bob.post(f"/api/matches/{match['id']}/join")
        cid.post(f"/api/matches/{match['id']}/join")
        self.ann.post(f"/api/matches/{match['id']}/leave")
        detail = bob.get(f"/api/matches/{match['id']}").json()["match"]
        self.assertEqual(detail["host_slot"], 1)
        response = bob.post(f"/api/matches/{match['id']}/start", {"fill_with_bots": False})
        self.assertEqual(response.status_code, 200, response.content)
