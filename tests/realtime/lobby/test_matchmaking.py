"""Quick play: pairing, the bot timeout, ghosts, cancel, and atomicity under concurrent asks."""

import threading

from django.test import TestCase, TransactionTestCase, override_settings

from matches import services
from matches.errors import MatchError
from matches.models import Match
from realtime.lobby import matchmaking
from tests.support.stack import flush_redis

T0 = 1_700_000_000_000  # an arbitrary "now" in ms; the tests move it by hand


@override_settings(QUICKPLAY_BOT_AFTER_S=3.0)
class QuickPlayTests(TestCase):
    def setUp(self):
        flush_redis()
        self.ann = services.player_create(display_name="ann")
        self.bob = services.player_create(display_name="bob")

    def ask(self, player, title="pong", at=0):
        return matchmaking.quickplay(player=player, title=title, now_ms=T0 + at)

    def test_the_first_player_waits_and_the_next_one_is_paired_with_them(self):
        first = self.ask(self.ann)
        self.assertEqual((first.status, first.match), (matchmaking.WAITING, None))
        second = self.ask(self.bob, at=500)
        self.assertEqual(second.status, matchmaking.MATCHED)
        again = self.ask(self.ann, at=900)
        self.assertEqual((again.status, again.match), (matchmaking.MATCHED, second.match))
        match = Match.objects.get(public_id=second.match)
        self.assertEqual(match.title, "pong")
        self.assertEqual(match.status, Match.Status.COUNTDOWN)
        seats = {p.slot: p.player for p in match.participations.all()}
        self.assertEqual(seats, {0: self.ann, 1: self.bob})

    def test_a_placement_is_handed_out_once_then_the_player_can_queue_again(self):
        self.ask(self.ann)
        self.ask(self.bob, at=100)
        self.assertEqual(self.ask(self.ann, at=200).status, matchmaking.MATCHED)
        self.assertEqual(self.ask(self.ann, at=300).status, matchmaking.WAITING)

    def test_a_lone_player_gets_bots_after_the_wait(self):
        self.assertEqual(self.ask(self.ann, "snake").status, matchmaking.WAITING)
        waiting = self.ask(self.ann, "snake", at=2900)
        self.assertEqual(waiting.status, matchmaking.WAITING)
        self.assertAlmostEqual(waiting.waited_s, 2.9)
        ticket = self.ask(self.ann, "snake", at=3000)
        self.assertEqual((ticket.status, ticket.with_bots), (matchmaking.MATCHED, True))
        match = Match.objects.get(public_id=ticket.match)
        self.assertTrue(match.fill_with_bots)
        self.assertEqual(match.status, Match.Status.COUNTDOWN)
        self.assertEqual(list(match.participations.values_list("player", flat=True)), [self.ann.pk])
        # Gone from the queue: the next player waits instead of joining that match.
        self.assertEqual(self.ask(self.bob, "snake", at=3100).status, matchmaking.WAITING)

    def test_two_players_of_a_bigger_title_start_after_the_gather_time_with_bots(self):
        # Was "at once": a many-seat title now gathers a rating band for QUICKPLAY_GATHER_S
        # (2 s) before it starts short of its seats.
        self.ask(self.ann, "arena")
        self.assertEqual(self.ask(self.bob, "arena", at=100).status, matchmaking.WAITING)
        self.ask(self.ann, "arena", at=1000)
        ticket = self.ask(self.bob, "arena", at=2000)
        match = Match.objects.get(public_id=ticket.match)
        self.assertEqual((match.status, match.fill_with_bots), (Match.Status.COUNTDOWN, True))
        self.assertEqual(match.participations.count(), 2)

    def test_a_player_who_stopped_asking_is_not_paired(self):
        self.ask(self.ann)
        ticket = self.ask(self.bob, at=matchmaking.STALE_MS + 1)
        self.assertEqual(ticket.status, matchmaking.WAITING)
        # ann comes back: a fresh start in the queue, paired with bob who is waiting.
        self.assertEqual(self.ask(self.ann, at=matchmaking.STALE_MS + 200).status, "matched")

    def test_titles_have_separate_queues(self):
        self.ask(self.ann, "pong")
        self.assertEqual(self.ask(self.bob, "snake", at=10).status, matchmaking.WAITING)

    def test_cancel_leaves_the_queue(self):
        self.ask(self.ann)
        matchmaking.quickplay_cancel(player=self.ann, title="pong")
        self.assertEqual(self.ask(self.bob, at=10).status, matchmaking.WAITING)

    def test_an_unknown_title_is_refused(self):
        with self.assertRaises(MatchError) as caught:
            self.ask(self.ann, "chess")
        self.assertEqual(caught.exception.code, "unknown_title")


class QuickPlayAtomicityTests(TransactionTestCase):
    def setUp(self):
        flush_redis()

    def test_concurrent_asks_pair_every_waiting_player_exactly_once(self):
        """40 players ask at the same moment from 40 threads, a few rounds each."""
        players = list(range(1, 41))
        outcomes: list[tuple[int, str, str]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(players))

        def ask(player_id: int) -> None:
            barrier.wait()
            for round_ in range(3):
                kind, value = matchmaking.step(title="pong", player_id=player_id,
                                               now_ms=T0 + round_)  # fmt: skip
                with lock:
                    outcomes.append((player_id, kind, value))
                if kind in ("paired", "pending"):
                    return  # placed: a real client stops asking here

        threads = [threading.Thread(target=ask, args=(p,)) for p in players]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        partners = [int(value) for _, kind, value in outcomes if kind == "paired"]
        pairers = [player for player, kind, _ in outcomes if kind == "paired"]
        # Nobody is taken twice, nobody takes themselves, and no one both takes and is taken.
        self.assertEqual(len(partners), len(set(partners)))
        self.assertTrue(all(p != q for p, q in zip(pairers, partners, strict=True)))
        self.assertFalse(set(partners) & set(pairers))
        self.assertEqual(len(set(partners) | set(pairers)), 2 * len(partners))
        # Everyone was paired one way or the other in three rounds: 20 pairs.
        self.assertEqual(len(partners), 20)
