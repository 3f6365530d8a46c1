"""Who may do what in the match admin: the control permission, staff status, the audit log."""

from unittest import mock

import redis
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from matches import services
from matches.models import AuditLog, Match
from realtime import store
from tests.support.matches import redis_match
from tests.support.stack import flush_redis
from tests.support.staff import controller, staff_user, viewer

Status = Match.Status
CHANGELIST = reverse("admin:matches_match_changelist")
CREATE = reverse("admin:matches_match_create_with_bots")


def waiting_pong() -> Match:
    match = services.match_create(title="pong")
    services.match_join(match_id=match.pk, player=services.player_create(display_name="ann"))
    return match


def action(name: str, match: Match, **extra) -> dict:
    return {"action": name, "_selected_action": [match.pk], "index": 0, **extra}


class RefusedTests(TestCase):
    def setUp(self):
        flush_redis()
        self.match = waiting_pong()
        self.kick = reverse("admin:matches_match_kick", args=[self.match.pk])
        self.live = reverse("admin:matches_match_live", args=[self.match.pk])

    def assert_untouched(self):
        self.match.refresh_from_db()
        self.assertEqual(self.match.status, Status.WAITING)
        self.assertEqual(self.match.participations.count(), 1)
        self.assertFalse(AuditLog.objects.exists())
        self.assertFalse(store.client().exists(store.key(self.match.pk, "control")))

    def test_a_non_staff_user_is_sent_to_the_login_page_for_every_control(self):
        self.client.force_login(User.objects.create_user("joe", password="pw-123-xyz"))
        for url, data in ((CHANGELIST, action("start_now", self.match)),
                          (CHANGELIST, action("abort_matches", self.match, reason="x")),
                          (self.kick, {"slot": 0}),
                          (CREATE, {"title": "pong", "bots": 2, "start": "on"})):  # fmt: skip
            response = self.client.post(url, data)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn("/admin/login/", response["Location"])
        self.assertEqual(self.client.get(self.live).status_code, 302)
        self.assert_untouched()
        self.assertEqual(Match.objects.count(), 1)

    def test_staff_without_the_control_permission_can_look_but_not_act(self):
        self.client.force_login(viewer())
        page = self.client.get(CHANGELIST)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "start_now")
        self.assertNotContains(page, "Create a match with bots")
        # Posting an action anyway: the admin does not know it for this user.
        self.client.post(CHANGELIST, action("start_now", self.match))
        self.client.post(CHANGELIST, action("abort_matches", self.match, reason="x"))
        with self.assertLogs("django.request", "WARNING"):  # each refusal is logged
            self.assertEqual(self.client.post(self.kick, {"slot": 0}).status_code, 403)
            self.assertEqual(self.client.get(CREATE).status_code, 403)
            self.assertEqual(
                self.client.post(CREATE, {"title": "pong", "bots": 2, "start": "on"}).status_code,
                403,
            )
        self.assert_untouched()
        self.assertEqual(Match.objects.count(), 1)
        # Read-only views stay open to them.
        change = self.client.get(reverse("admin:matches_match_change", args=[self.match.pk]))
        self.assertContains(change, 'id="live-view"')
        self.assertNotContains(change, 'value="Kick"')
        self.assertEqual(self.client.get(self.live).status_code, 200)

    def test_staff_without_the_view_permission_get_no_live_json(self):
        self.client.force_login(staff_user("nobody"))
        with self.assertLogs("django.request", "WARNING"):
            self.assertEqual(self.client.get(self.live).status_code, 403)

    def test_the_control_permission_shows_the_actions_and_the_create_page(self):
        self.client.force_login(controller())
        page = self.client.get(CHANGELIST)
        for name in ("start_now", "finish_matches", "abort_matches", "Create a match with bots"):
            self.assertContains(page, name)
        self.assertContains(self.client.get(CREATE), 'name="bots"')


class ControlWithoutWorkerTests(TestCase):
    """What the actions do in the database when no runner is involved (waiting matches)."""

    def setUp(self):
        flush_redis()
        self.staff = controller()
        self.client.force_login(self.staff)

    def test_kicking_from_a_waiting_match_frees_the_seat_and_is_audited(self):
        match = waiting_pong()
        url = reverse("admin:matches_match_kick", args=[match.pk])
        response = self.client.post(url, {"slot": 0, "reason": "rude name"}, follow=True)
        self.assertContains(response, "Kicked ann (slot 0)")
        self.assertEqual(match.participations.count(), 0)
        entry = AuditLog.objects.get()
        self.assertEqual((entry.actor, entry.action, entry.match, entry.reason),
                         (self.staff, "kick", match, "rude name"))  # fmt: skip
        self.assertEqual(entry.details, {"slot": 0, "player": "ann"})
        # Nothing for a runner: the match never ran.
        self.assertEqual(store.client().llen(store.key(match.pk, "inputs")), 0)

    def test_kicking_an_empty_slot_is_refused_with_the_reason(self):
        match = waiting_pong()
        url = reverse("admin:matches_match_kick", args=[match.pk])
        response = self.client.post(url, {"slot": 1}, follow=True)
        self.assertContains(response, "nobody plays slot 1")
        self.assertFalse(AuditLog.objects.exists())

    def test_create_with_bots_refuses_bad_settings_and_creates_nothing(self):
        response = self.client.post(CREATE, {"title": "pong", "settings": '{"score_to": 0}',
                                             "bots": 2})  # fmt: skip
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "score_to")
        self.assertFalse(Match.objects.exists())
        self.assertFalse(AuditLog.objects.exists())

    def test_create_with_bots_left_open_seats_bots_and_waits_for_humans(self):
        response = self.client.post(CREATE, {"title": "arena", "settings": '{"max_players": 4}',
                                             "bots": 2})  # fmt: skip
        match = Match.objects.get()
        self.assertRedirects(response, reverse("admin:matches_match_change", args=[match.pk]))
        self.assertEqual(match.status, Status.WAITING)
        self.assertEqual(sorted(match.participations.values_list("slot", "is_bot")),
                         [(0, True), (1, True)])  # fmt: skip
        entry = AuditLog.objects.get()
        self.assertEqual(entry.action, "create")
        self.assertEqual(entry.details["bots"], 2)
        self.assertFalse(entry.details["start"])

    def test_start_now_refuses_a_match_that_is_over(self):
        match = waiting_pong()
        services.match_abort(match_id=match.pk, reason="test")
        response = self.client.post(CHANGELIST, action("start_now", match), follow=True)
        self.assertContains(response, "only a match not yet running starts")
        self.assertFalse(AuditLog.objects.exists())


class LiveListTests(TestCase):
    def setUp(self):
        flush_redis()
        self.client.force_login(controller())

    def test_the_list_reads_the_live_figures_of_a_page_in_one_redis_round_trip(self):
        running = []
        for name in ("a", "b", "c"):
            match = waiting_pong()
            services.match_join(match_id=match.pk,
                                player=services.player_create(display_name=name))  # fmt: skip
            services.match_begin(match_id=match.pk)
            redis_match(match.pk)  # the state as begin writes it
            store.client().hset(store.key(match.pk, "state"), "tick", 40 + match.pk)
            running.append(match)
        execute = mock.patch.object(redis.client.Pipeline, "execute", autospec=True,
                                    side_effect=redis.client.Pipeline.execute)  # fmt: skip
        single = mock.patch.object(redis.Redis, "execute_command", autospec=True,
                                   side_effect=redis.Redis.execute_command)  # fmt: skip
        with execute as pipelines, single as commands:
            page = self.client.get(CHANGELIST)
        self.assertEqual((pipelines.call_count, commands.call_count), (1, 0))
        rows = {m.pk: m.live for m in page.context["cl"].result_list}
        self.assertEqual({pk: live.tick for pk, live in rows.items()},
                         {m.pk: 40 + m.pk for m in running})  # fmt: skip


class AuditLogAdminTests(TestCase):
    def test_the_audit_log_is_read_only_even_for_a_superuser(self):
        boss = User.objects.create_superuser("boss", "boss@example.com", "pw-123-xyz")
        self.client.force_login(boss)
        match = waiting_pong()
        entry = services.audit_record(actor=boss, action="abort", match=match, reason="test",
                                      details={"k": 1})  # fmt: skip
        listing = self.client.get(reverse("admin:matches_auditlog_changelist"))
        self.assertContains(listing, "boss")
        self.assertNotContains(listing, reverse("admin:matches_auditlog_add"))
        change_url = reverse("admin:matches_auditlog_change", args=[entry.pk])
        page = self.client.get(change_url)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, 'name="_save"')
        delete_url = reverse("admin:matches_auditlog_delete", args=[entry.pk])
        with self.assertLogs("django.request", "WARNING"):
            self.assertEqual(self.client.post(change_url, {"reason": "x"}).status_code, 403)
            self.assertEqual(self.client.post(delete_url, {"post": "yes"}).status_code, 403)
        entry.refresh_from_db()
        self.assertEqual((entry.reason, entry.details), ("test", {"k": 1}))
