"""``manage.py bench_games``: the cost of a tick of each title at max players, all bots, and
the rows a title declares in its package's bench.py (``CASES``)."""

import json

from django.core.management.base import BaseCommand, CommandError

from matches.titles import TITLES
from realtime.dev import gamebench as bench


class Command(BaseCommand):
    help = (
        "Measure the rules' cost per tick (bot inputs + step) of each title at its max "
        "players (or at --players), every slot a bot, then the cases the title's bench.py "
        "declares (CASES), and print it against the tick budget."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seconds", type=float, default=2.0, help="measuring time per row (default 2)"
        )
        parser.add_argument(
            "--title",
            action="append",
            choices=sorted(TITLES),
            help="only this title (repeatable; default: all)",
        )
        parser.add_argument(
            "--players",
            action="append",
            type=int,
            metavar="N",
            help="bot players per match instead of the title's max (repeatable: one row per "
            "count; each must fit every title measured, e.g. --title arena --players 64; "
            "no declared cases then)",
        )
        parser.add_argument("--json", metavar="PATH", help="also write the rows here, as JSON")
        parser.add_argument(
            "--no-cases",
            action="store_true",
            help="only the default row per title, not the cases its bench.py declares",
        )

    def handle(self, *args, **options):
        seconds = options["seconds"]
        if not 0 < seconds <= 600:
            raise CommandError("--seconds must be in (0, 600]")
        names = options["title"] or list(TITLES)
        counts = options["players"]
        if counts is None:
            rows = bench.run(seconds, names, with_cases=not options["no_cases"])
        else:
            for name in names:
                title = TITLES[name]
                for n in counts:
                    if not title.min_players <= n <= title.max_players:
                        raise CommandError(
                            f"--players {n} does not fit {name} "
                            f"({title.min_players}-{title.max_players} players); "
                            "choose titles with --title"
                        )
            rows = [bench.bench_title(TITLES[name], seconds, n) for name in names for n in counts]
        self.stdout.write(bench.format_table(rows))
        if options["json"]:
            with open(options["json"], "w") as out:
                json.dump(rows, out, indent=1)
        worst = max(rows, key=lambda r: r["p99_us"] / r["budget_us"])
        share = worst["p99_us"] / worst["budget_us"] * 100
        self.stdout.write(
            f"\nworst p99: {worst['title']} {worst['p99_us']:.0f} µs "
            f"= {share:.1f}% of its {worst['budget_us']:.0f} µs tick"
        )
