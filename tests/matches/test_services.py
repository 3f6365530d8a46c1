from django.test import TestCase, override_settings
from django.utils import timezone

from matches import services
from matches.errors import (
    AlreadyJoined,
    IllegalTransition,
    InvalidMatchSettings,
    MatchClosed,
    MatchError,
    MatchFull,
    NotAParticipant,
)
from matches.models import Match, Participation

Status = Match.Status


def players(*names):
    return [services.player_create(display_name=n) for n in names]


@override_settings(MATCH_COUNTDOWN_S=3.0)
class MatchLifecycleTests(TestCase):
    def test_creating_a_match_fills_in_the_title_defaults(self):
        match = services.match_create(title="pong")
        self.assertEqual(match.status, Status.WAITING)
        self.assertEqual(match.tick_hz, 30)
        self.assertEqual(match.max_players, 2)
        self.assertEqual(match.settings["score_to"], 11)
        self.assertGreaterEqual(len(match.public_id), 8)

    def test_an_unknown_title_is_refused_with_a_reason(self):
        with self.assertRaises(InvalidMatchSettings) as ctx:
            services.match_create(title="chess")
        self.assertEqual(ctx.exception.code, "unknown_title")

    def test_bad_settings_are_refused_naming_the_field(self):
        with self.assertRaises(InvalidMatchSettings) as ctx:
            services.match_create(title="pong", settings={"score_to": 1000})
        self.assertIn("score_to", ctx.exception.reason)
        self.assertEqual(Match.objects.count(), 0)

    def test_joining_takes_the_lowest_free_slot(self):
        match = services.match_create(title="snake", settings={"max_players": 4})
        a, b, c = players("a", "b", "c")
        self.assertEqual(services.match_join(match_id=match.pk, player=a).slot, 0)
        self.assertEqual(services.match_join(match_id=match.pk, player=b).slot, 1)
        services.match_leave(match_id=match.pk, player=a)
        self.assertEqual(services.match_join(match_id=match.pk, player=c).slot, 0)

    def test_a_match_that_fills_up_starts_its_countdown(self):
        match = services.match_create(title="pong")
        a, b = players("a", "b")
        services.match_join(match_id=match.pk, player=a)
        services.match_join(match_id=match.pk, player=b)
        match.refresh_from_db()
        self.assertEqual(match.status, Status.COUNTDOWN)
        self.assertAlmostEqual((match.starts_at - timezone.now()).total_seconds(), 3.0, delta=1.0)

    def test_a_full_match_rejects_a_third_player(self):
        match = services.match_create(title="pong")
        a, b, c = players("a", "b", "c")
        services.match_join(match_id=match.pk, player=a)
        services.match_join(match_id=match.pk, player=b)
        with self.assertRaises(MatchFull) as ctx:
            services.match_join(match_id=match.pk, player=c)
        self.assertEqual(ctx.exception.code, "match_full")
        self.assertEqual(match.participations.count(), 2)

    def test_joining_twice_is_refused(self):
        match = services.match_create(title="snake")
        (a,) = players("a")
        services.match_join(match_id=match.pk, player=a)
        with self.assertRaises(AlreadyJoined):
            services.match_join(match_id=match.pk, player=a)
        self.assertEqual(match.participations.count(), 1)

    def test_joining_a_finished_match_is_refused(self):
        match = self._running_pong()
        services.match_finish(match_id=match.pk, result={"scores": [11, 3], "winner": 0})
        (c,) = players("c")
        with self.assertRaises(MatchClosed):
            services.match_join(match_id=match.pk, player=c)

    def test_joining_an_aborted_match_is_refused(self):
        match = services.match_create(title="snake")
        services.match_abort(match_id=match.pk, reason="test")
        (a,) = players("a")
        with self.assertRaises(MatchClosed):
            services.match_join(match_id=match.pk, player=a)

    def test_joining_a_started_match_with_a_free_slot_is_refused(self):
        match = services.match_create(title="snake", settings={"max_players": 4})
        a, b, c = players("a", "b", "c")
        services.match_join(match_id=match.pk, player=a)
        services.match_join(match_id=match.pk, player=b)
        services.match_start(match_id=match.pk)
        with self.assertRaises(MatchClosed) as ctx:
            services.match_join(match_id=match.pk, player=c)
        self.assertIn("already started", ctx.exception.reason)

    def test_status_only_moves_forward(self):
        match = services.match_create(title="pong")
        for operation in (
            lambda: services.match_begin(match_id=match.pk),
            lambda: services.match_finish(match_id=match.pk, result={"scores": [0, 0]}),
        ):
            with self.assertRaises(IllegalTransition):
                operation()
        match = self._running_pong()
        with self.assertRaises(IllegalTransition):
            services.match_start(match_id=match.pk)
        services.match_finish(match_id=match.pk, result={"scores": [1, 0], "winner": 0})
        for operation in (
            lambda: services.match_abort(match_id=match.pk, reason="late"),
            lambda: services.match_finish(match_id=match.pk, result={"scores": [0, 0]}),
            lambda: services.match_begin(match_id=match.pk),
        ):
            with self.assertRaises(IllegalTransition):
                operation()
        match.refresh_from_db()
        self.assertEqual(match.status, Status.FINISHED)

    def test_an_illegal_transition_explains_itself(self):
        match = services.match_create(title="pong")
        with self.assertRaises(IllegalTransition) as ctx:
            services.match_begin(match_id=match.pk)
        self.assertIn("waiting", ctx.exception.reason)
        self.assertEqual(ctx.exception.code, "illegal_transition")

    def test_starting_short_of_players_without_bots_is_refused(self):
        match = services.match_create(title="pong")
        services.match_join(match_id=match.pk, player=players("a")[0])
        with self.assertRaises(IllegalTransition):
            services.match_start(match_id=match.pk)

    def test_beginning_fills_the_empty_slots_with_bots_when_asked(self):
        match = services.match_create(title="pong", fill_with_bots=True)
        services.match_join(match_id=match.pk, player=players("solo")[0])
        services.match_start(match_id=match.pk, countdown_s=0)
        match = services.match_begin(match_id=match.pk)
        self.assertEqual(match.status, Status.RUNNING)
        self.assertIsNotNone(match.started_at)
        bots = match.participations.filter(is_bot=True)
        self.assertEqual([p.slot for p in bots], [1])

    def test_beginning_closes_the_gaps_players_left_in_the_slots(self):
        match = services.match_create(title="snake", settings={"max_players": 4})
        a, b, c = players("a", "b", "c")
        for p in (a, b, c):
            services.match_join(match_id=match.pk, player=p)
        services.match_leave(match_id=match.pk, player=b)
        services.match_start(match_id=match.pk, countdown_s=0)
        match = services.match_begin(match_id=match.pk)
        slots = {p.player.display_name: p.slot for p in match.participations.all()}
        self.assertEqual(slots, {"a": 0, "c": 1})

    def test_a_match_of_bots_only_fills_every_slot(self):
        match = services.match_create(
            title="snake", settings={"max_players": 3}, fill_with_bots=True
        )
        services.match_start(match_id=match.pk, countdown_s=0)
        match = services.match_begin(match_id=match.pk)
        self.assertEqual(
            [(p.slot, p.is_bot) for p in match.participations.all()],
            [(0, True), (1, True), (2, True)],
        )

    def test_leaving_a_running_match_keeps_the_slot_and_marks_the_player_gone(self):
        match = self._running_pong()
        a = match.participations.get(slot=0).player
        services.match_leave(match_id=match.pk, player=a)
        p = match.participations.get(slot=0)
        self.assertIsNotNone(p.left_at)
        self.assertFalse(p.connected)

    def test_leaving_a_match_you_are_not_in_is_refused(self):
        match = services.match_create(title="pong")
        with self.assertRaises(NotAParticipant):
            services.match_leave(match_id=match.pk, player=players("x")[0])

    def test_finishing_records_scores_results_winner_and_stats(self):
        match = self._running_pong()
        match = services.match_finish(
            match_id=match.pk,
            result={"scores": [11, 7], "winner": 0, "summary": "11-7"},
            stats={"ticks": 900},
        )
        self.assertEqual(match.status, Status.FINISHED)
        self.assertEqual(match.winner.display_name, "a")
        self.assertEqual(match.summary["stats"], {"ticks": 900})
        self.assertEqual(match.summary["text"], "11-7")
        rows = {p.slot: (p.score, p.result) for p in match.participations.all()}
        self.assertEqual(rows, {0: (11, "win"), 1: (7, "loss")})
        self.assertIsNotNone(match.ended_at)

    def test_a_draw_has_no_winner(self):
        match = self._running_pong()
        match = services.match_finish(match_id=match.pk, result={"scores": [2, 2], "winner": None})
        self.assertIsNone(match.winner)
        self.assertEqual({p.result for p in match.participations.all()}, {"draw"})

    def test_a_forfeit_is_recorded_as_such(self):
        match = self._running_pong()
        match = services.match_finish(
            match_id=match.pk, result={"scores": [3, 1], "winner": 0, "forfeited": [1]}
        )
        self.assertEqual(match.participations.get(slot=1).result, Participation.Result.FORFEIT)

    def test_an_abort_records_its_reason(self):
        match = self._running_pong()
        match = services.match_abort(match_id=match.pk, reason="redis lost its data")
        self.assertEqual(match.status, Status.ABORTED)
        self.assertEqual(match.abort_reason, "redis lost its data")

    def test_an_abort_without_a_reason_is_refused(self):
        match = services.match_create(title="pong")
        with self.assertRaises(MatchError):
            services.match_abort(match_id=match.pk, reason="  ")

    def _running_pong(self) -> Match:
        match = services.match_create(title="pong")
        for p in players("a", "b"):
            services.match_join(match_id=match.pk, player=p)
        self.assertEqual(Match.objects.get(pk=match.pk).status, Status.COUNTDOWN)
        return services.match_begin(match_id=match.pk)


class PlayerTests(TestCase):
    def test_display_names_are_trimmed_and_collapsed(self):
        self.assertEqual(services.player_create(display_name="  Ada   L ").display_name, "Ada L")

    def test_empty_long_or_control_character_names_are_refused(self):
        for bad in ["", "   ", "x" * 25, "bell\x07", 42, None]:
            with self.subTest(bad=bad), self.assertRaises(MatchError):
                services.player_create(display_name=bad)


class PublicIdTests(TestCase):
    def test_public_ids_never_start_with_a_dash_or_an_underscore(self):
        from matches.models import new_public_id

        ids = [new_public_id() for _ in range(2000)]
        self.assertTrue(all(i[0].isalnum() and len(i) == 10 for i in ids))
        self.assertEqual(len(set(ids)), len(ids))
