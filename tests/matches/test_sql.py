"""The statements in plain SQL (matches/sql.py) read and write what the ORM would, on the
database the run uses (SQLite by default, PostgreSQL in CI)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import TestCase
from django.utils import timezone

from matches import selectors, services
from matches.errors import MatchNotFound
from matches.models import Match, Participation
from matches.sessions import SessionStore

Status = Match.Status


def seated(*names, title="snake", settings=None):
    match = services.match_create(title=title, settings=settings or {"max_players": 8})
    people = [services.player_create(display_name=n) for n in names]
    for player in people:
        services.match_join(match_id=match.pk, player=player)
    return match, people


def orm_seats(match):
    """What the handshake read through the ORM before (seats_of), as SeatRow fields."""
    return [
        (p.slot, p.is_bot, p.connected, p.left_at is not None, p.player_id,
         p.player.display_name if p.player else None, p.player.user_id if p.player else None,
         p.player.user.is_active if p.player and p.player.user else None,
         p.player.user.password if p.player and p.player.user else None, p.name)
        for p in match.participations.select_related("player__user").order_by("slot")
    ]  # fmt: skip


def sql_seats(found):
    return [
        (r.slot, r.is_bot, r.connected, r.left, r.player_id, r.player_name, r.user_id,
         r.user_active, r.user_password, r.name)
        for r in found.seats
    ]  # fmt: skip


class MatchSeatsTests(TestCase):
    def test_a_match_reads_as_the_orm_reads_it_with_its_seats_in_slot_order(self):
        match, (ann, bob, cy) = seated("Ann", "Bob", "Cy")
        user = get_user_model().objects.create_user(username="bob", password="pw-long-enough")
        bob.user = user
        bob.save()
        services.match_leave(match_id=match.pk, player=cy)
        services.participation_set_connected(match_id=match.pk, player=ann, connected=True)
        match = Match.objects.get(pk=match.pk)
        found = selectors.match_seats(public_id=match.public_id)
        self.assertEqual(
            (found.match_id, found.public_id, found.title, found.status, found.rules_version,
             found.settings, found.tick_hz, found.starts_at),
            (match.pk, match.public_id, match.title, match.status, match.rules_version,
             match.settings, match.tick_hz, match.starts_at),
        )  # fmt: skip
        self.assertEqual(sql_seats(found), orm_seats(match))
        self.assertIsInstance(found.settings, dict)

    def test_bots_a_countdown_and_a_started_match_read_as_the_orm_reads_them(self):
        match, _ = seated("Ann", "Bob")
        services.match_seat_bots(match_id=match.pk, count=3)
        services.match_start(match_id=match.pk, countdown_s=0.5)
        match = Match.objects.get(pk=match.pk)
        found = selectors.match_seats(public_id=match.public_id)
        self.assertIsNotNone(match.starts_at)
        self.assertEqual(found.starts_at, match.starts_at)  # aware on either database
        self.assertEqual(found.status, Status.COUNTDOWN)
        self.assertEqual(sql_seats(found), orm_seats(match))
        self.assertEqual([r.name for r in found.seats][-3:], ["Bot 3", "Bot 4", "Bot 5"])

    def test_a_match_without_seats_is_found_with_none(self):
        match = services.match_create(title="pong")
        found = selectors.match_seats(public_id=match.public_id)
        self.assertEqual((found.match_id, found.seats), (match.pk, []))

    def test_an_unknown_id_or_one_with_a_nul_is_not_found(self):
        for public_id in ("nope", "bad\x00id", ""):
            with self.subTest(public_id=public_id), self.assertRaises(MatchNotFound):
                selectors.match_seats(public_id=public_id)

    def test_a_seat_s_player_is_built_with_the_account_fields_a_session_check_reads(self):
        match, (ann,) = seated("Ann")
        user = get_user_model().objects.create_user(username="ann", password="pw-long-enough")
        ann.user = user
        ann.save()
        player = selectors.match_seats(public_id=match.public_id).seats[0].player()
        self.assertEqual((player.pk, player.display_name, player.user_id), (ann.pk, "Ann", user.pk))
        self.assertEqual(player.user.get_session_auth_hash(), user.get_session_auth_hash())
        self.assertTrue(player.user.is_active)


class MatchStatusTests(TestCase):
    def test_the_status_of_a_match_and_none_for_an_unknown_one(self):
        match, _ = seated("Ann")
        self.assertEqual(selectors.match_status(match_id=match.pk), Status.WAITING)
        self.assertIsNone(selectors.match_status(match_id=match.pk + 1000))


class ParticipationSetConnectedTests(TestCase):
    def connected(self, match, player):
        return Participation.objects.get(match=match, player=player).connected

    def test_only_the_player_s_own_seat_changes(self):
        match, (ann, bob) = seated("Ann", "Bob")
        self.assertTrue(services.participation_set_connected(match_id=match.pk, player=ann,
                                                             connected=True))  # fmt: skip
        self.assertEqual((self.connected(match, ann), self.connected(match, bob)), (True, False))
        self.assertTrue(services.participation_set_connected(match_id=match.pk, player=ann,
                                                             connected=False))  # fmt: skip
        self.assertFalse(self.connected(match, ann))

    def test_a_player_who_left_or_a_match_that_is_over_is_not_marked(self):
        match, (ann, bob) = seated("Ann", "Bob")
        services.match_leave(match_id=match.pk, player=ann)
        self.assertFalse(services.participation_set_connected(match_id=match.pk, player=ann,
                                                              connected=True))  # fmt: skip
        Match.objects.filter(pk=match.pk).update(status=Status.FINISHED)
        self.assertFalse(services.participation_set_connected(match_id=match.pk, player=bob,
                                                              connected=True))  # fmt: skip
        self.assertFalse(self.connected(match, bob))

    def test_a_player_of_another_match_marks_nothing_here(self):
        match, _ = seated("Ann")
        other, (bob,) = seated("Bob")
        self.assertFalse(services.participation_set_connected(match_id=match.pk, player=bob,
                                                              connected=True))  # fmt: skip
        self.assertFalse(self.connected(other, bob))


class SessionStoreTests(TestCase):
    def test_a_saved_session_loads_its_data(self):
        saved = SessionStore()
        saved["player_id"] = 7
        saved.create()
        loaded = SessionStore(session_key=saved.session_key)
        self.assertEqual(loaded.get("player_id"), 7)
        self.assertEqual(loaded.session_key, saved.session_key)

    def test_an_expired_or_unknown_session_loads_empty_and_gets_no_key(self):
        saved = SessionStore()
        saved["player_id"] = 7
        saved.create()
        Session.objects.filter(session_key=saved.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        for key in (saved.session_key, "x" * 32):
            with self.subTest(key=key):
                loaded = SessionStore(session_key=key)
                self.assertEqual(loaded.load(), {})
                self.assertIsNone(loaded.session_key)

    def test_a_session_expiring_later_is_still_loaded(self):
        saved = SessionStore()
        saved["player_id"] = 8
        saved.create()
        Session.objects.filter(session_key=saved.session_key).update(
            expire_date=timezone.now() + timedelta(seconds=30)
        )
        self.assertEqual(SessionStore(session_key=saved.session_key).get("player_id"), 8)
