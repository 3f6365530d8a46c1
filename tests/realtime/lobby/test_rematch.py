"""GET|POST /api/matches/<id>/rematch: everyone asked, one no closes it, the last yes makes it."""

import datetime

from django.conf import settings
from django.utils import timezone

from matches import services
from matches.models import Match, Player
from tests.realtime.lobby.test_api import ApiCase, ApiClient


class RematchTests(ApiCase):
    def setUp(self):
        super().setUp()
        self.bob = ApiClient()
        self.bob.nickname("bob")
        self.old = self.finished(["ann", "bob"])

    def finished(self, names: list[str], *, bots: bool = False, title: str = "snake") -> Match:
        match = services.match_create(title=title, settings={"max_players": 4},
                                      fill_with_bots=bots)  # fmt: skip
        for name in names:
            services.match_join(match_id=match.pk, player=Player.objects.get(display_name=name))
        services.match_start(match_id=match.pk)
        services.match_begin(match_id=match.pk)
        slots = match.participations.count()
        result = {"scores": [1] * slots, "winner": 0, "ranking": list(range(slots))}
        return services.match_finish(match_id=match.pk, result=result)

    def answer(self, client: ApiClient, accept, match: Match | None = None):
        url = f"/api/matches/{(match or self.old).public_id}/rematch"
        return client.post(url, {"accept": accept})

    def test_everyone_says_yes_and_the_same_players_get_a_new_match(self):
        first = self.answer(self.ann, True).json()["rematch"]
        self.assertEqual((first["status"], first["match"]), ("open", None))
        self.assertEqual([a["answer"] for a in first["answers"]], ["yes", None])
        seen = self.bob.get(f"/api/matches/{self.old.public_id}/rematch").json()["rematch"]
        self.assertEqual(seen, first)
        made = self.answer(self.bob, True).json()["rematch"]
        self.assertEqual(made["status"], "made")
        new = Match.objects.get(public_id=made["match"])
        self.assertEqual((new.title, new.settings, new.status),
                         ("snake", self.old.settings, Match.Status.COUNTDOWN))  # fmt: skip
        self.assertEqual([p.player.display_name for p in new.participations.order_by("slot")],
                         ["ann", "bob"])  # fmt: skip
        self.assertFalse(new.fill_with_bots)
        # A late yes changes nothing and gets the same match.
        self.assertEqual(self.answer(self.ann, True).json()["rematch"]["match"], made["match"])
        self.assertEqual(Match.objects.count(), 2)

    def test_a_lone_player_against_bots_gets_the_rematch_at_once_with_bots(self):
        old = self.finished(["ann"], bots=True)
        made = self.answer(self.ann, True, old).json()["rematch"]
        new = Match.objects.get(public_id=made["match"])
        self.assertEqual((new.fill_with_bots, new.status), (True, Match.Status.COUNTDOWN))

    def test_an_offer_expires_after_rematch_offer_s_and_a_late_yes_is_refused(self):
        self.answer(self.ann, True)
        Match.objects.filter(pk=self.old.pk).update(
            ended_at=timezone.now() - datetime.timedelta(seconds=settings.REMATCH_OFFER_S + 1)
        )
        seen = self.bob.get(f"/api/matches/{self.old.public_id}/rematch").json()["rematch"]
        self.assertEqual((seen["status"], seen["match"]), ("expired", None))
        self.assert_error(self.answer(self.bob, True), 409, "rematch_expired")
        self.assertEqual(Match.objects.count(), 1)
        # A no is still taken (it closes nothing more), and the offer then reads declined.
        self.assertEqual(self.answer(self.bob, False).json()["rematch"]["status"], "declined")

    def test_rematch_declined(self):
        self.answer(self.ann, True)
        declined = self.answer(self.bob, False).json()["rematch"]
        self.assertEqual((declined["status"], declined["match"]), ("declined", None))
        self.assert_error(self.answer(self.ann, True), 409, "rematch_declined")
        self.assert_error(self.answer(self.bob, True), 409, "rematch_declined")
        self.assertEqual(Match.objects.count(), 1)

    def test_errors(self):
        waiting = self.create()
        self.assert_error(self.ann.post(f"/api/matches/{waiting['id']}/rematch", {"accept": True}),
                          409, "match_not_over")  # fmt: skip
        eve = ApiClient()
        eve.nickname("eve")
        self.assert_error(self.answer(eve, True), 403, "not_a_participant")
        self.assert_error(self.answer(ApiClient(), True), 403, "no_player")
        self.assert_error(self.answer(self.ann, "yes"), 400, "bad_request")
        self.assert_error(self.ann.post(f"/api/matches/{self.old.public_id}/rematch", {}), 400,
                          "bad_request")  # fmt: skip
        self.assert_error(self.ann.post("/api/matches/nope/rematch", {"accept": True}), 404,
                          "unknown_match")  # fmt: skip
        self.answer(self.ann, True)
        self.answer(self.bob, True)
        self.assert_error(self.answer(self.bob, False), 409, "match_closed")
