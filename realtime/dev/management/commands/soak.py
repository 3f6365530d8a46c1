"""`make soak`: hours of the whole match lifecycle on the whole stack (realtime/dev/soak.py).
Prints a sample a minute and the end checks; writes var/soak/results.json and its chart
(var/soak/soak.svg; ``--doc`` also docs/benchmarks/soak.svg)."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError

from realtime.dev import soak
from realtime.dev.loadtest.orchestrator import add_nice_argument

DOC_CHART = Path(settings.BASE_DIR) / "docs" / "benchmarks" / "soak.svg"


class Command(BaseCommand):
    help = "Soak: the whole match lifecycle on the whole stack for --minutes (make soak)."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=30.0)
        parser.add_argument(
            "--players", type=int, default=200,
            help="players (in pairs). make bench holds 500 Pong players, but a soak player "
            "also creates, joins, polls quick play and fetches replays (docs/benchmarks.md, "
            "Soak: 200 held for 30 minutes on a quiet 2-core machine)",
        )  # fmt: skip
        parser.add_argument("--spectators", type=int, default=20)
        parser.add_argument("--processes", type=int, default=2, help="load processes")
        parser.add_argument("--sample-s", type=float, default=60.0, help="seconds per sample")
        parser.add_argument(
            "--warmup-minutes", type=float, default=5.0,
            help="samples before this are left out of the memory slope (imports, pools, "
            "allocator arenas settling); at least the longest match plus --retention-s, until "
            "which Redis is still filling with retained matches",
        )  # fmt: skip
        parser.add_argument(
            "--retention-s", type=float, default=300.0,
            help="MATCH_RETENTION_S of the stack: short, so that a soak sees finished "
            "matches' keys dropped and the key count level off",
        )  # fmt: skip
        parser.add_argument(
            "--score-to", type=int, nargs="+", default=[1, 2],
            help="Pong points to win of created matches, one chosen at random per match",
        )  # fmt: skip
        parser.add_argument("--port", type=int, default=8078)
        add_nice_argument(parser, "--load-nice", default=10)
        parser.add_argument("--doc", action="store_true",
                            help="also write the chart to docs/benchmarks/soak.svg")  # fmt: skip

    def handle(self, *args, **o):
        if o["minutes"] <= 0 or o["players"] < 2 or o["processes"] < 1 or o["sample_s"] <= 0:
            raise CommandError("--minutes and --sample-s must be > 0, --players ≥ 2, "
                               "--processes ≥ 1")  # fmt: skip
        if any(not 1 <= n <= 21 for n in o["score_to"]):
            raise CommandError("--score-to values must be 1-21 (Pong's score_to)")
        options = soak.Options(
            minutes=o["minutes"], players=o["players"], spectators=o["spectators"],
            processes=o["processes"], port=o["port"], sample_s=o["sample_s"],
            warmup_minutes=o["warmup_minutes"], retention_s=o["retention_s"],
            score_to=tuple(o["score_to"]), nice=o["load_nice"],
        )  # fmt: skip
        self.stdout.write(f"soak: {o['minutes']:g} min, {o['players']} players, "
                          f"{o['spectators']} spectators; logs in {options.out}")  # fmt: skip
        results = soak.Soak(options, log=self.stdout.write).run()
        path = soak.write_json(results, options.out / "results.json")
        caption = (f"make soak, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
                   f"{o['players']} players, {o['minutes']:g} minutes")  # fmt: skip
        soak.chart(results, options.out / "soak.svg", caption)
        if o["doc"]:
            soak.chart(results, DOC_CHART, caption)
        self.stdout.write("\n" + soak.table(results) + "\n")
        self.stdout.write(soak.summary(results))
        self.stdout.write(f"wrote {path} and {options.out / 'soak.svg'}")
