"""Bot-vs-bot matches of every title, run by real workers to a result in the database."""

import io

from django.core.management import call_command
from django.test import TransactionTestCase

from matches import services
from matches.models import Match
from tests.support import stack

Status = Match.Status

QUICK = {
    "pong": {"score_to": 1},
    "snake": {"max_players": 2, "time_limit_s": 30},
    "arena": {"max_players": 2, "time_limit_s": 30},
}


class BotMatchesLiveTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.services = [stack.tick_worker("ticks1"), stack.default_worker(), stack.beat()]
        stack.wait_ready(*self.services[:2])

    def tearDown(self):
        for service in self.services:
            service.stop()

    def test_a_bot_match_of_every_title_runs_on_a_tick_worker_to_a_recorded_result(self):
        matches = {}
        for title, game_settings in QUICK.items():
            match = services.match_create(title=title, settings=game_settings, fill_with_bots=True)
            services.match_start(match_id=match.pk, countdown_s=0)
            matches[title] = match

        def all_over() -> bool:
            return all(
                Match.objects.get(pk=m.pk).status in Match.OVER_STATUSES for m in matches.values()
            )

        stack.wait_for(all_over, timeout=90, interval=0.5, what="every bot match to end")
        for title, match in matches.items():
            with self.subTest(title=title):
                match.refresh_from_db()
                self.assertEqual(match.status, Status.FINISHED, match.abort_reason)
                ticks = match.summary["stats"]["ticks"]
                print(f"\n  {title}: {match.summary['text']} after {ticks} ticks "
                      f"({match.duration_s:.1f} s)")  # fmt: skip
                results = sorted(p.result for p in match.participations.all())
                self.assertIn(results, (["loss", "win"], ["draw", "draw"]))
                self.assertEqual(len(match.summary["scores"]), 2)
                self.assertGreater(match.summary["stats"]["ticks"], 0)
                self.assertTrue(all(p.is_bot for p in match.participations.all()))
                out = io.StringIO()
                call_command("verify_replay", match.public_id, stdout=out)
                self.assertIn("OK: the replay reproduces the recorded result", out.getvalue())
