"""``manage.py bench_games``: the cost of a tick of each title at max players, all bots."""

from django.core.management.base import BaseCommand, CommandError

from matches.games import TITLES, bench


class Command(BaseCommand):
    help = (
        "Measure the rules' cost per tick (bot inputs + step) of each title at its max "
        "players, every slot a bot, and print it against the tick budget."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seconds", type=float, default=2.0, help="measuring time per title (default 2)"
        )
        parser.add_argument(
            "--title",
            action="append",
            choices=sorted(TITLES),
            help="only this title (repeatable; default: all)",
        )

    def handle(self, *args, **options):
        seconds = options["seconds"]
        if not 0 < seconds <= 600:
            raise CommandError("--seconds must be in (0, 600]")
        rows = bench.run(seconds, options["title"])
        self.stdout.write(bench.format_table(rows))
        worst = max(rows, key=lambda r: r["p99_us"] / r["budget_us"])
        share = worst["p99_us"] / worst["budget_us"] * 100
        self.stdout.write(
            f"\nworst p99: {worst['title']} {worst['p99_us']:.0f} µs "
            f"= {share:.1f}% of its {worst['budget_us']:.0f} µs tick"
        )
