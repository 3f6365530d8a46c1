"""Ratings in the database: the title's system, many-player results, recomputing from history."""

from io import StringIO

from django.core.management import CommandError, call_command
from django.test import TestCase

from matches import ratings, services, standings
from matches.models import Player, Rating


def finish(title: str, names: list[str], ranking: list[int], *, winner: int | None = 0):
    match = services.match_create(title=title, settings={"max_players": len(names)})
    for name in names:
        player, _ = Player.objects.get_or_create(display_name=name)
        services.match_join(match_id=match.pk, player=player)
    match.refresh_from_db()
    if match.status == "waiting":
        services.match_start(match_id=match.pk)
    services.match_begin(match_id=match.pk)
    scores = [len(names) - ranking.index(slot) for slot in range(len(names))]
    result = {"scores": scores, "winner": winner, "ranking": ranking, "summary": ""}
    return services.match_finish(match_id=match.pk, result=result)


def board(title: str) -> dict[str, tuple]:
    return {
        r.player.display_name: (r.system, r.rating, r.mu, r.sigma, r.games, r.wins, r.losses)
        for r in Rating.objects.filter(title=title).select_related("player")
    }


class StandingsTests(TestCase):
    def test_pong_keeps_elo_and_snake_uses_openskill(self):
        finish("pong", ["ann", "bob"], [0, 1])
        pong = board("pong")
        self.assertEqual(pong["ann"][:4], ("elo", 1216.0, None, None))
        finish("snake", ["ann", "bob", "cid", "dee"], [2, 0, 3, 1], winner=2)
        snake = board("snake")
        self.assertEqual({row[0] for row in snake.values()}, {"openskill"})
        # Places follow the ranking: cid won, then ann, dee, bob.
        order = sorted(snake, key=lambda name: -snake[name][2])
        self.assertEqual(order, ["cid", "ann", "dee", "bob"])
        for _, shown, mu, sigma, games, _, _ in snake.values():
            self.assertAlmostEqual(shown, mu - 3 * sigma, places=1)
            self.assertLess(sigma, ratings.SIGMA)
            self.assertEqual(games, 1)
        self.assertEqual(snake["cid"][5:], (1, 0))
        self.assertEqual(snake["bob"][5:], (0, 1))

    def test_the_live_ratings_and_a_recompute_from_history_agree(self):
        finish("arena", ["ann", "bob", "cid"], [1, 2, 0], winner=1)
        finish("arena", ["cid", "ann", "bob"], [0, 2, 1])
        finish("pong", ["ann", "bob"], [1, 0], winner=1)
        finish("snake", ["ann", "bob"], [0, 1], winner=None)  # a draw
        live = {title: board(title) for title in ("arena", "pong", "snake")}
        out = StringIO()
        call_command("recompute_ratings", stdout=out)
        self.assertIn("arena: 2 finished matches rated (openskill)", out.getvalue())
        self.assertIn("pong: 1 finished matches rated (elo)", out.getvalue())
        for title, rows in live.items():
            self.assertEqual(board(title), rows, title)

    def test_a_recompute_replaces_ratings_of_another_system_and_keeps_other_titles(self):
        finish("snake", ["ann", "bob"], [1, 0], winner=1)
        finish("pong", ["ann", "bob"], [0, 1])
        kept = board("pong")
        Rating.objects.filter(title="snake").update(system="elo", rating=1500, mu=None, sigma=None,
                                                    games=9)  # fmt: skip
        call_command("recompute_ratings", "--title", "snake", stdout=StringIO())
        self.assertEqual({row[0] for row in board("snake").values()}, {"openskill"})
        self.assertEqual({row[4] for row in board("snake").values()}, {1})
        self.assertEqual(board("pong"), kept)

    def test_an_unknown_title_is_refused(self):
        with self.assertRaises(CommandError):
            call_command("recompute_ratings", "--title", "chess", stdout=StringIO())

    def test_quick_play_compares_mu_or_elo_from_1200(self):
        ann = Player.objects.create(display_name="ann")
        self.assertEqual(standings.matchmaking_rating(player=ann, title="snake"), 1200.0)
        finish("snake", ["ann", "bob"], [0, 1])
        self.assertGreater(standings.matchmaking_rating(player=ann, title="snake"), 1200.0)

    def test_places_follow_the_ranking_or_the_scores_and_a_draw_ties_everyone(self):
        self.assertEqual(standings.places_of([0, 2], {"winner": 2, "ranking": [2, 1, 0]}),
                         {0: -2.0, 2: -0.0})  # fmt: skip
        self.assertEqual(standings.places_of([0, 1], {"winner": 1, "scores": [3, 5]}),
                         {0: -1.0, 1: -0.0})  # fmt: skip
        self.assertEqual(standings.places_of([0, 1], {"winner": None, "ranking": [1, 0]}),
                         {0: 0.0, 1: 0.0})  # fmt: skip
