from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from matches import services
from matches.models import Match
from tests.support.stack import flush_redis

Status = Match.Status
CHANGELIST = reverse("admin:matches_match_changelist")


def running_pong() -> Match:
    match = services.match_create(title="pong")
    for name in ("a", "b"):
        services.match_join(match_id=match.pk, player=services.player_create(display_name=name))
    # Full, so it is counting down already.
    return services.match_begin(match_id=match.pk)


class MatchAdminActionTests(TestCase):
    def setUp(self):
        # Match ids repeat across TestCases (rolled back): a state an earlier test left in
        # Redis under the same id would be read as this match's final scores.
        flush_redis()
        self.staff = User.objects.create_superuser("boss", "boss@example.com", "pw-123-xyz")
        self.client.force_login(self.staff)

    def test_the_finish_action_finishes_a_running_match_with_its_scores(self):
        match = running_pong()
        match.participations.filter(slot=1).update(score=4)
        response = self.client.post(
            CHANGELIST,
            {"action": "finish_matches", "_selected_action": [match.pk], "index": 0},
            follow=True,
        )
        self.assertContains(response, "Finished 1 match")
        match.refresh_from_db()
        self.assertEqual(match.status, Status.FINISHED)
        self.assertEqual(match.summary["scores"], [0, 4])
        self.assertEqual(match.winner.display_name, "b")

    def test_the_finish_action_refuses_a_waiting_match_and_says_why(self):
        match = services.match_create(title="pong")
        response = self.client.post(
            CHANGELIST,
            {"action": "finish_matches", "_selected_action": [match.pk], "index": 0},
            follow=True,
        )
        self.assertContains(response, "cannot become finished")
        match.refresh_from_db()
        self.assertEqual(match.status, Status.WAITING)

    def test_the_abort_action_asks_for_a_reason_then_aborts(self):
        match = running_pong()
        data = {"action": "abort_matches", "_selected_action": [match.pk], "index": 0}
        form_page = self.client.post(CHANGELIST, data)
        self.assertContains(form_page, 'name="reason"')
        match.refresh_from_db()
        self.assertEqual(match.status, Status.RUNNING)

        self.client.post(CHANGELIST, {**data, "reason": "cheating suspected"}, follow=True)
        match.refresh_from_db()
        self.assertEqual(match.status, Status.ABORTED)
        self.assertEqual(match.abort_reason, "cheating suspected")

    def test_the_match_page_shows_participants_inline(self):
        match = running_pong()
        response = self.client.get(reverse("admin:matches_match_change", args=[match.pk]))
        self.assertContains(response, "Participations")
        self.assertContains(response, match.public_id)

    def test_the_list_filters_by_status_and_title(self):
        running_pong()
        services.match_create(title="snake")
        response = self.client.get(CHANGELIST, {"status__exact": "running", "title__exact": "pong"})
        self.assertEqual(response.context["cl"].result_count, 1)


class MatchAdminAccessTests(TestCase):
    def test_a_non_staff_user_is_sent_to_the_login_page(self):
        user = User.objects.create_user("joe", password="pw-123-xyz")
        self.client.force_login(user)
        match = running_pong()
        response = self.client.post(
            CHANGELIST, {"action": "abort_matches", "_selected_action": [match.pk], "reason": "x"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])
        match.refresh_from_db()
        self.assertEqual(match.status, Status.RUNNING)
