"""``manage.py bench_wire``: bytes per state and per player per second, v1 against compact."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from realtime.dev import gamebench, wirebench


class Command(BaseCommand):
    help = (
        "Play Pong 2, Snake 8, Arena 50 and Arena 64 with bots and encode every state as v1 "
        "JSON and as compact frames: bytes per state, per player per second, keyframe share."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=60.0,
                            help="match time per row (default 60)")  # fmt: skip
        parser.add_argument("--json", dest="json_path", default=None)

    def handle(self, *args, seconds: float, json_path: str | None, **options):
        if not 0 < seconds <= 3600:
            raise CommandError("--seconds must be in (0, 3600]")
        rows = wirebench.run(seconds)
        self.stdout.write(gamebench.format_table(rows, wirebench.COLUMNS))
        if json_path:
            path = Path(json_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"seconds": seconds, "rows": rows}, indent=2) + "\n")
            self.stdout.write(f"wrote {path}")
