"""`make bench-net`: the client in real Chromium through each network profile; prints a table
and writes JSON (docs/benchmarks.md, "The client under a real network")."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from playwright.sync_api import sync_playwright

from realtime.dev import benchstack, netbench, netem

COLUMNS = ("client", "profile", "own_input_p50_ms", "own_input_p90_ms", "own_input_p99_ms",
           "own_input_max_ms", "presses", "presses_on_late_frames", "own_input_on_time_p99_ms",
           "correction_p99_units", "remote_freezes_per_min", "freezes", "freeze_causes",
           "minutes", "frozen_frame_share", "frames_per_s", "ws_bytes_per_s", "stalls")  # fmt: skip


# Issue #22's bandwidth rows: Snake with 8 seats, Thrust Arena with 64, the rest bots.
TITLES = (("snake", 8), ("arena", 64))
TITLE_SECONDS = 20.0


class Command(BaseCommand):
    help = "Own-input response, corrections and remote freezes in Chromium per network profile."

    def add_arguments(self, parser):
        parser.add_argument("--profiles", default=",".join(netem.PROFILES))
        # 2 minutes a profile: enough to tell 1 freeze a minute from none (25 s was not).
        parser.add_argument("--seconds", type=float, default=120.0, help="played per profile")
        parser.add_argument("--port", type=int, default=8341)
        parser.add_argument("--chromium", default="/usr/bin/chromium")
        parser.add_argument(
            "--clients", default="today,new",
            help="today: server states only, fixed delay; new: prediction, adaptive delay",
        )  # fmt: skip
        parser.add_argument("--json", dest="json_path")

    def handle(self, *args, **o):
        names = [n for n in o["profiles"].split(",") if n]
        unknown = [n for n in names if n not in netem.PROFILES]
        if unknown or not names:
            raise CommandError(
                f"--profiles: unknown {unknown} (known: {', '.join(netem.PROFILES)})"
            )
        clients = [c for c in o["clients"].split(",") if c]
        if not clients or set(clients) - {"today", "new"}:
            raise CommandError("--clients: today, new or both")
        if not Path(o["chromium"]).exists():
            raise CommandError(f"{o['chromium']} is missing: `make browser` installs it")
        out = Path(settings.VAR_DIR) / "bench"
        results = {client: {} for client in clients}
        env = {"DEBUG": "1", "MATCH_COUNTDOWN_S": "1", "QUICKPLAY_BOT_AFTER_S": "1"}
        with benchstack.running_stack(port=o["port"], out=out, **env), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=o["chromium"], args=netbench.CHROMIUM_ARGS)
            try:
                for name in names:
                    for client in clients:  # back to back, so both meet the same machine
                        self.stdout.write(f"{client} client, {name}: "
                                          f"{netem.PROFILES[name].describe()}")  # fmt: skip
                        results[client][name] = netbench.measure(
                            browser, daphne_port=o["port"], profile=netem.PROFILES[name],
                            seconds=o["seconds"], netcode=client == "new",
                        )  # fmt: skip
                per_title = {"pong": None}
                for title, players in TITLES:
                    self.stdout.write(f"{title}, {players} seats with bots: bytes per player")
                    per_title[title] = netbench.title_bytes(
                        browser, daphne_port=o["port"], title=title, players=players,
                        seconds=min(o["seconds"], TITLE_SECONDS),
                    )  # fmt: skip
            finally:
                browser.close()
        rows = [{"client": client, "profile": name, **figures}
                for client, by_profile in results.items()
                for name, figures in by_profile.items()]  # fmt: skip
        widths = {c: max(len(c), *(len(str(r.get(c))) for r in rows)) for c in COLUMNS}
        self.stdout.write("  ".join(c.ljust(widths[c]) for c in COLUMNS))
        for row in rows:
            self.stdout.write("  ".join(str(row.get(c)).ljust(widths[c]) for c in COLUMNS))
        main = results[clients[-1]]
        summary = {
            "profiles": main,
            **({"today": {"profiles": results["today"]}} if len(clients) > 1 else {}),
            # Each from a page's own socket: Pong through the first profile, the others direct.
            "bytes_per_player_per_s": {**per_title, "pong": main[names[0]]["ws_bytes_per_s"]},
        }  # fmt: skip
        path = Path(o["json_path"]) if o["json_path"] else out / "network.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=2) + "\n")
        self.stdout.write(f"bytes per player per s: {summary['bytes_per_player_per_s']}")
        self.stdout.write(f"\nwritten: {path}")
