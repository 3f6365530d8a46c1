import base64
import json
import time

from django.test import TestCase, override_settings
from django.utils import timezone

from matches import services
from matches.models import Match
from realtime import store
from realtime.engine import supervisor
from realtime.engine.match import MatchRunner, Outcome
from tests.support.matches import counting_down
from tests.support.stack import flush_redis

Status = Match.Status


def queued_matches() -> list[int]:
    """Match ids waiting on the broker's `ticks` queue (Celery's Redis transport: a list)."""
    ids = []
    for raw in store.client().lrange("ticks", 0, -1):
        body = json.loads(base64.b64decode(json.loads(raw)["body"]))
        ids.append(body[0][0])
    return ids


class SupervisorTests(TestCase):
    def setUp(self):
        flush_redis()

    def test_a_countdown_that_elapsed_begins_the_match_and_hands_it_to_a_tick_worker(self):
        match = counting_down()
        report = supervisor.supervise_once()
        match.refresh_from_db()
        self.assertEqual(report["begun"], 1)
        self.assertEqual(match.status, Status.RUNNING)
        saved = store.load_state(match.pk)
        self.assertEqual((saved["tick"], saved["status"]), (0, "running"))
        meta = store.Meta.load(match.pk)
        self.assertEqual((meta.players, meta.tick_hz, meta.public_id), (2, 30, match.public_id))
        self.assertEqual(queued_matches(), [match.pk])

    def test_a_countdown_still_running_is_left_alone(self):
        match = services.match_create(title="pong")
        for name in ("a", "b"):
            services.match_join(match_id=match.pk, player=services.player_create(display_name=name))
        supervisor.supervise_once()
        match.refresh_from_db()
        self.assertEqual(match.status, Status.COUNTDOWN)

    def test_bots_fill_the_slots_a_solo_player_leaves_empty(self):
        match = counting_down(names=("solo",), fill_with_bots=True)
        supervisor.supervise_once()
        self.assertEqual(store.Meta.load(match.pk).bots, (1,))

    def test_a_running_match_whose_lease_expired_is_dispatched_again_once(self):
        match = self._running()
        # The worker it was handed to died before taking the lease, a while ago.
        store.client().delete("ticks", store.key(match.pk, "dispatched"))
        self.assertEqual(supervisor.supervise_once()["dispatched"], 1)
        self.assertEqual(supervisor.supervise_once()["dispatched"], 0)  # one per lease gap
        self.assertEqual(queued_matches(), [match.pk])

    def test_a_match_whose_runner_died_just_after_taking_it_is_dispatched_again_at_once(self):
        match = self._running()  # begun and dispatched: its mark is fresh
        store.client().delete("ticks")
        runner = MatchRunner(match.pk)
        self.assertIs(runner.acquire(), Outcome.CONTINUE)
        store.client().delete(store.key(match.pk, "lease"))  # its worker died a moment later
        self.assertEqual(supervisor.supervise_once()["dispatched"], 1)
        self.assertEqual(queued_matches(), [match.pk])

    def test_a_running_match_with_a_live_lease_is_left_alone(self):
        match = self._running()
        store.client().delete("ticks", store.key(match.pk, "dispatched"))
        runner = MatchRunner(match.pk)
        self.assertIs(runner.acquire(), Outcome.CONTINUE)
        self.assertEqual(supervisor.supervise_once()["dispatched"], 0)
        self.assertEqual(queued_matches(), [])

    def test_a_running_match_whose_state_redis_lost_is_aborted_with_a_reason(self):
        match = self._running()
        flush_redis()
        self.assertEqual(supervisor.supervise_once()["aborted"], 1)
        match.refresh_from_db()
        self.assertEqual(match.status, Status.ABORTED)
        self.assertIn("state lost", match.abort_reason)

    def test_a_match_whose_final_state_is_in_redis_is_finished_in_the_database(self):
        match = self._running(settings={"score_to": 1})
        runner = MatchRunner(match.pk)
        runner.acquire()
        while runner.advance() is Outcome.CONTINUE:
            pass
        supervisor.supervise_once()
        match.refresh_from_db()
        self.assertEqual(match.status, Status.FINISHED)
        self.assertEqual(sorted(match.summary["scores"]), [0, 1])
        self.assertIn("ticks", match.summary["stats"])
        self.assertIsNotNone(match.winner)
        # A retried finish changes nothing.
        self.assertFalse(supervisor.finish(match.pk))

    @override_settings(MATCH_WAITING_TIMEOUT_S=60)
    def test_a_waiting_match_nobody_joined_in_time_is_aborted(self):
        old = services.match_create(title="snake")
        Match.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timezone.timedelta(hours=1)
        )
        fresh = services.match_create(title="snake")
        supervisor.supervise_once()
        old.refresh_from_db()
        fresh.refresh_from_db()
        self.assertEqual((old.status, fresh.status), (Status.ABORTED, Status.WAITING))
        self.assertIn("abandoned", old.abort_reason)

    @override_settings(MATCH_RETENTION_S=60)
    def test_finished_matches_keys_are_dropped_after_the_retention_period(self):
        store.client().zadd(store.FINISHED_INDEX, {"77": time.time() - 120, "78": time.time()})
        for match_id in (77, 78):
            store.client().hset(store.key(match_id, "state"), "status", "finished")
        self.assertEqual(supervisor.supervise_once()["dropped"], 1)
        self.assertFalse(store.client().exists(store.key(77, "state")))
        self.assertTrue(store.client().exists(store.key(78, "state")))

    def test_lease_gaps_name_the_matches_without_a_lease_and_the_status_of_their_state(self):
        r = store.client()
        for match_id in range(1, 2001):
            r.set(store.key(match_id, "lease"), "t")
        r.delete(store.key(7, "lease"), store.key(1500, "lease"), store.key(1999, "lease"))
        r.hset(store.key(7, "state"), "status", "finished")
        r.hset(store.key(1500, "state"), "state", "{}")  # being written: no status yet
        ids = list(range(1, 2001))
        gaps = store.lease_gaps(ids)
        self.assertEqual(gaps, [(7, "finished"), (1500, "running"), (1999, None)])

    def _running(self, **kwargs) -> Match:
        match = counting_down(**kwargs)
        supervisor.supervise_once()
        return Match.objects.get(pk=match.pk)
