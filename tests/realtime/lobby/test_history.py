import io

from django.core.management import CommandError, call_command
from django.test import TestCase

from matches import replay, services
from matches.models import Match
from matches.titles import get_title
from tests.support.matches import counting_down


def finish_rated_pong():
    """ann beats bob by forfeit at tick 60 after a few inputs, with the replay stored."""
    match = services.match_begin(match_id=counting_down().pk)
    log = [[0, [["i", 0, {"dir": 1}]]], [20, [["i", 1, {"dir": -1}]]], [60, [["f", 1]]]]
    settings = get_title("pong").validate_settings({})
    states = list(replay.states(title="pong", players=2, bots=(), seed=match.seed,
                                settings=settings, log=log, max_ticks=60))  # fmt: skip
    final = states[-1]
    result = get_title("pong").result(final)
    services.match_finish(match_id=match.pk, result=result, replay_log=log, final_tick=60)
    return match, get_title("pong").snapshot(final)


class HistoryApiTests(TestCase):
    def test_the_leaderboard_lists_rated_players_best_first(self):
        finish_rated_pong()
        body = self.client.get("/api/leaderboard/pong").json()
        self.assertEqual([r["name"] for r in body["ratings"]], ["ann", "bob"])
        self.assertEqual([r["rating"] for r in body["ratings"]], [1216, 1184])
        self.assertEqual(self.client.get("/api/leaderboard/chess").status_code, 404)

    def test_a_player_page_has_their_matches_and_ratings(self):
        match, _ = finish_rated_pong()
        ann = match.participations.get(slot=0).player
        body = self.client.get(f"/api/players/{ann.pk}").json()
        self.assertEqual(body["player"]["name"], "ann")
        self.assertEqual(body["ratings"]["pong"]["wins"], 1)
        self.assertEqual([m["id"] for m in body["matches"]], [match.public_id])
        self.assertEqual(self.client.get("/api/players/999999").status_code, 404)

    def test_replay_frames_are_re_simulated_and_end_on_the_final_state(self):
        match, final_snapshot = finish_rated_pong()
        first = self.client.get(f"/api/matches/{match.public_id}/replay?count=10").json()
        self.assertEqual((first["ticks"], first["from"], len(first["frames"])), (60, 0, 10))
        self.assertEqual([f["tick"] for f in first["frames"]], list(range(10)))
        last = self.client.get(f"/api/matches/{match.public_id}/replay?from=55&count=900").json()
        self.assertEqual([f["tick"] for f in last["frames"]], [55, 56, 57, 58, 59, 60])
        self.assertEqual(last["frames"][-1], final_snapshot)
        self.assertEqual(last["result"]["winner"], 0)

    def test_a_replay_recorded_under_other_rules_is_refused_not_replayed_wrong(self):
        match, _ = finish_rated_pong()
        Match.objects.filter(pk=match.pk).update(rules_version=match.rules_version + 1)
        response = self.client.get(f"/api/matches/{match.public_id}/replay")
        self.assertEqual((response.status_code, response.json()["error"]), (410, "replay_outdated"))
        self.assertIn(f"v{match.rules_version + 1}", response.json()["reason"])
        with self.assertRaisesMessage(CommandError, "which would replay another match"):
            call_command("verify_replay", match.public_id, stdout=io.StringIO())

    def test_replay_requests_with_bad_parameters_or_no_replay_get_a_clear_error(self):
        match, _ = finish_rated_pong()
        for query in ("from=-1", "from=61", "count=0", "count=901", "from=abc"):
            with self.subTest(query=query):
                response = self.client.get(f"/api/matches/{match.public_id}/replay?{query}")
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"], "bad_parameter")
        unfinished = services.match_create(title="pong")
        response = self.client.get(f"/api/matches/{unfinished.public_id}/replay")
        self.assertEqual((response.status_code, response.json()["error"]), (404, "no_replay"))
