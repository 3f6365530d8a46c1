"""Zombie Siege on the real stack, with nothing written for it outside its folder: a bots-only
siege run by a tick worker to a recorded result its replay reproduces, the admin's live view
of it, and the load tool playing it over sockets."""

import io

from django.core.management import call_command
from django.test import TransactionTestCase
from django.urls import reverse

from matches import services
from matches.models import Match
from realtime.dev.loadtest.orchestrator import LoadTest
from tests.support import stack
from tests.support.staff import controller

SHORT = {"waves": 1, "horde": 20, "difficulty": 3}


class ZombieLiveTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        workers = [stack.tick_worker("ticks-z"), stack.default_worker("default-z")]
        self.services = [*workers, stack.beat("beat-z"),
                         stack.daphne("daphne-z", MATCH_COUNTDOWN_S="0.5")]  # fmt: skip
        stack.wait_ready(*workers)

    def tearDown(self):
        for service in self.services:
            service.stop()

    def test_a_bots_only_siege_shows_in_the_admin_live_view_and_ends_in_a_replayable_result(self):
        match = services.match_create(title="zombie", settings=SHORT, fill_with_bots=True)
        services.match_start(match_id=match.pk, countdown_s=0)
        self.client.force_login(controller())
        url = reverse("admin:matches_match_live", args=[match.pk])

        def live() -> dict | None:
            return self.client.get(url).json()["live"]

        seen = stack.wait_for(lambda: (live() or {}).get("tick", 0) > 5 and live(), timeout=20,
                              what="the admin's live view of the siege")  # fmt: skip
        self.assertEqual(self.client.get(url).json()["error"], None)
        self.assertIn("zombies", str(seen))
        stack.wait_for(lambda: Match.objects.get(pk=match.pk).status in Match.OVER_STATUSES,
                       timeout=120, interval=0.5, what="the siege to end")  # fmt: skip
        match.refresh_from_db()
        self.assertEqual(match.status, Match.Status.FINISHED, match.abort_reason)
        self.assertGreater(match.summary["stats"]["ticks"], 0)
        out = io.StringIO()
        call_command("verify_replay", match.public_id, stdout=out)
        self.assertIn("OK: the replay reproduces the recorded result", out.getvalue())

    def test_the_load_tool_plays_a_four_player_siege_over_sockets_without_errors(self):
        daphne = self.services[-1]
        with LoadTest(base_url=daphne.origin, title="zombie", players_per_match=4, processes=1,
                      settings={"waves": 30},
                      log=lambda line: print("\n  " + line)) as test:  # fmt: skip
            row = test.hold(matches=1, seconds=4, settle=3)
        self.assertEqual((row["players"], row["clients_connected"]), (4, 4))
        # 4 clients for ~4 s at the title's 20 Hz
        self.assertGreater(row["states"], 4 * 4 * 20 * 0.8)
        self.assertGreater(row["delivered_ratio"], 0.9)
        self.assertGreater(row["inputs"], 0)
        self.assertEqual(row["errors"], {})
