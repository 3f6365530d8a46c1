"""``manage.py simulate_quickplay``: quick play's matching, first come against by rating."""

from django.core.management.base import BaseCommand, CommandError

from matches.titles import TITLES
from realtime.dev import devredis, qpsim
from realtime.lobby import matchmaking


class Command(BaseCommand):
    help = (
        "Queue players of known skill (normal, mean 1200, sd 200) arriving at a steady rate, "
        "each asking once a second as the lobby does, through the real quick-play script on "
        "Redis in virtual time; print the rating gaps inside matches and the waits, first "
        "come against by rating (the current QUICKPLAY_* settings)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--players", type=int, default=1000)
        parser.add_argument(
            "--per-s",
            type=float,
            action="append",
            dest="rates",
            help="arrivals per second (repeatable; default 1, 5 and 20)",
        )
        parser.add_argument("--title", choices=sorted(TITLES), default="pong")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, players: int, rates, title: str, seed: int, **options):
        if not 2 <= players <= 100_000:
            raise CommandError("--players must be between 2 and 100000")
        redis_proc = devredis.ensure()  # the private Redis when REDIS_URL is unset
        try:
            self._table(players=players, rates=rates, title=title, seed=seed)
        finally:
            devredis.stop(redis_proc)

    def _table(self, *, players: int, rates, title: str, seed: int) -> None:
        seats = matchmaking.seats_of(title)
        skills = qpsim.population(players, seed=seed)
        self.stdout.write(f"{title}: {players} players, {seats} seats a match, skill sd 200")
        head = ("arrivals/s", "mode", "matches", "bots %", "mean gap", "p90 gap",
                "mean wait s", "p50", "p90", "max")  # fmt: skip
        self.stdout.write(" | ".join(head))
        for rate in rates or [1.0, 5.0, 20.0]:
            for by_rating in (False, True):
                row = qpsim.run(skills=skills, per_s=rate, seats=seats, by_rating=by_rating,
                                seed=seed).row()  # fmt: skip
                cells = (rate, row["mode"], row["matches"], row["with_bots_pct"],
                         row["mean_gap"], row["p90_gap"], row["mean_wait_s"], row["p50_wait_s"],
                         row["p90_wait_s"], row["max_wait_s"])  # fmt: skip
                self.stdout.write(" | ".join(str(c) for c in cells))
