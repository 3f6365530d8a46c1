"""Quick play by rating: the window that widens with the wait, the closest first, rating bands
for many-seat titles, first come when switched off; decisions are the Lua script's."""

from django.test import TestCase, override_settings

from matches import services
from matches.models import Match, Rating
from realtime.lobby import matchmaking
from tests.support.stack import flush_redis

T0 = 1_700_000_000_000


@override_settings(QUICKPLAY_BOT_AFTER_S=10.0, QUICKPLAY_RATING_WINDOW=100.0,
                   QUICKPLAY_WINDOW_GROWTH_PER_S=100.0, QUICKPLAY_BY_RATING=True)  # fmt: skip
class RatedQuickPlayTests(TestCase):
    def setUp(self):
        flush_redis()

    def ask(self, player_id, rating, at=0, seats=2, title="pong"):
        return matchmaking.step(title=title, player_id=player_id, now_ms=T0 + at, rating=rating,
                                seats=seats)  # fmt: skip

    def test_far_apart_players_wait_until_the_window_has_widened_enough(self):
        self.assertEqual(self.ask(1, 1200)[0], "waiting")
        self.assertEqual(self.ask(2, 1600)[0], "waiting")  # gap 400 > 100
        self.assertEqual(self.ask(1, 1200, at=2000)[0], "waiting")  # 1's window: 300
        self.assertEqual(self.ask(1, 1200, at=3000), ("paired", "2"))  # 400: reached

    def test_a_long_wait_lets_a_newcomer_reach_you(self):
        self.ask(1, 1200)
        self.ask(1, 1200, at=2900)
        self.assertEqual(self.ask(2, 1580, at=3000), ("paired", "1"))  # 1's window: 400

    def test_the_closest_waiting_player_is_taken(self):
        self.ask(1, 1200)
        self.ask(2, 1290, at=10)
        self.ask(3, 1150, at=20)  # 1 and 3 are 50 apart, but 3 asked last: it took 1
        self.assertEqual(self.ask(2, 1290, at=30)[0], "waiting")
        self.assertEqual(self.ask(1, 1200, at=40)[0], "pending")

    def test_a_many_seat_title_fills_its_seats_from_a_rating_band(self):
        for pid, rating in ((1, 1180), (2, 1230), (3, 1900), (4, 1210)):
            self.assertEqual(self.ask(pid, rating, seats=4, title="snake")[0], "waiting")
        # The fourth seat within 100 of 1, 2 and 4 fills the band: the three closest first.
        self.assertEqual(self.ask(5, 1200, seats=4, title="snake", at=10),
                         ("paired", "4,1,2"))  # fmt: skip
        self.assertEqual(self.ask(3, 1900, seats=4, title="snake", at=20)[0], "waiting")

    @override_settings(QUICKPLAY_GATHER_S=2.0)
    def test_a_band_short_of_the_seats_starts_after_the_gather_time(self):
        self.ask(1, 1200, seats=8, title="arena")
        self.assertEqual(self.ask(2, 1220, seats=8, title="arena", at=100)[0], "waiting")
        self.ask(2, 1220, seats=8, title="arena", at=1100)
        self.assertEqual(self.ask(1, 1200, seats=8, title="arena", at=2000), ("paired", "2"))

    def test_bots_after_the_wait_as_before(self):
        self.ask(2, 2400)
        for at in range(0, 10_000, 1000):
            self.assertEqual(self.ask(1, 1200, at=at)[0], "waiting")
        self.assertEqual(self.ask(1, 1200, at=10_000), ("bots", ""))

    @override_settings(QUICKPLAY_BY_RATING=False)
    def test_switched_off_it_pairs_first_come_whatever_the_ratings(self):
        self.ask(1, 1200)
        self.assertEqual(self.ask(2, 2400, at=10), ("paired", "1"))

    def test_quickplay_uses_each_player_s_rating_of_the_title(self):
        ann = services.player_create(display_name="ann")
        bob = services.player_create(display_name="bob")
        cid = services.player_create(display_name="cid")
        Rating.objects.create(player=ann, title="pong", rating=1900, games=30)
        Rating.objects.create(player=bob, title="pong", rating=1210, games=30)
        matchmaking.quickplay(player=ann, title="pong", now_ms=T0)
        matchmaking.quickplay(player=bob, title="pong", now_ms=T0 + 10)
        ticket = matchmaking.quickplay(player=cid, title="pong", now_ms=T0 + 20)  # new: 1200
        match = Match.objects.get(public_id=ticket.match)
        self.assertEqual([p.player for p in match.participations.order_by("slot")], [bob, cid])
