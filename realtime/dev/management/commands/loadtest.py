"""Bot clients over real websockets, speaking docs/protocol.md as a browser does."""

import json
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from matches.titles import get_title
from realtime.dev import netem
from realtime.dev.loadtest import policies
from realtime.dev.loadtest.orchestrator import (
    Bar,
    LoadTest,
    add_encoding_argument,
    add_nice_argument,
)

COLUMNS = ("players", "gap_p50_ms", "gap_p99_ms", "gap_max_ms", "gaps_over_1_5_periods",
           "delivered_ratio", "missed_ticks", "input_latency_p50_ms", "input_latency_p99_ms",
           "state_bytes_per_player_s", "load_cpu_percent", "held")  # fmt: skip


def print_table(write, rows: list[dict]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in COLUMNS}
    write("  ".join(c.ljust(widths[c]) for c in COLUMNS))
    for row in rows:
        write("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in COLUMNS))


class Command(BaseCommand):
    help = "Load test: N bot players over real websockets (hold or ramp mode)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--title", default="pong", choices=policies.playable())
        parser.add_argument("--players-per-match", type=int, default=2)
        parser.add_argument("--input-hz", type=float, default=10.0)
        parser.add_argument("--mode", choices=["hold", "ramp"], default="hold")
        parser.add_argument("--matches", type=int, default=50, help="hold: matches to hold")
        parser.add_argument("--step", type=int, default=10, help="ramp: matches added per step")
        parser.add_argument("--max-matches", type=int, default=400)
        parser.add_argument("--seconds", type=float, default=10.0, help="measured per step")
        parser.add_argument("--settle", type=float, default=4.0, help="wait before measuring")
        parser.add_argument("--processes", type=int, default=2)
        add_encoding_argument(parser)
        add_nice_argument(parser, "--nice", default=0)
        parser.add_argument(
            "--title-settings",
            help="title settings JSON (default: long matches, e.g. Pong to 21, a 15-minute "
            "arena); max_players is --players-per-match",
        )
        parser.add_argument("--json", dest="json_path")
        parser.add_argument(
            "--profile", choices=list(netem.PROFILES),
            help="reach --url through the network-impairment proxy with this profile",
        )  # fmt: skip

    def handle(self, *args, **o):
        try:
            settings = (
                json.loads(o["title_settings"])
                if o["title_settings"] is not None
                else policies.long_match(o["title"])
            )
        except json.JSONDecodeError as exc:
            raise CommandError(f"--title-settings is not JSON: {exc}") from None
        if not isinstance(settings, dict):
            raise CommandError("--title-settings must be a JSON object")
        title = get_title(o["title"])
        if not title.min_players <= o["players_per_match"] <= title.max_players:
            raise CommandError(
                f"--players-per-match must be {title.min_players}-{title.max_players} "
                f"for {o['title']}"
            )
        if o["processes"] < 1 or o["matches"] < 1 or o["step"] < 1:
            raise CommandError("--processes, --matches and --step must be at least 1")
        with netem.impaired_url(o["url"], o["profile"]) as url, LoadTest(
            base_url=url, title=o["title"], players_per_match=o["players_per_match"],
            input_hz=o["input_hz"], settings=settings, processes=o["processes"],
            log=self.stdout.write, nice=o["nice"], encoding=o["encoding"],
        ) as test:  # fmt: skip
            if o["mode"] == "hold":
                rows = [test.hold(matches=o["matches"], seconds=o["seconds"], settle=o["settle"])]
                best = rows[0] if Bar().holds(rows[0]) else None
            else:
                rows, best = test.ramp(
                    step=o["step"], max_matches=o["max_matches"], seconds=o["seconds"],
                    settle=o["settle"], bar=Bar(),
                )  # fmt: skip
        self.stdout.write("")
        print_table(self.stdout.write, rows)
        summary = {"rows": rows, "capacity_players": best["players"] if best else 0}
        self.stdout.write(f"\nheld: {summary['capacity_players']} players")
        if o["json_path"]:
            Path(o["json_path"]).parent.mkdir(parents=True, exist_ok=True)
            Path(o["json_path"]).write_text(json.dumps(summary, indent=2) + "\n")
