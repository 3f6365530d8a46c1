"""The fuzzers' budget and their results.

``make test`` runs each surface with a small fixed budget; ``make fuzz`` sets
``FUZZ_FRAMES`` and ``FUZZ_REQUESTS`` (the totals over every surface of the kind; and
``FUZZ_MUTANTS``, the byte-level variants of each drawn frame) and prints the table of
var/fuzz/results.json: surface, cases, failures, seconds.
"""

import json
import os
import time
from pathlib import Path

from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

RESULTS = Path(settings.VAR_DIR) / "fuzz" / "results.json"
FRAMES = int(os.environ.get("FUZZ_FRAMES") or 20_000)
REQUESTS = int(os.environ.get("FUZZ_REQUESTS") or 1000)
# Each structured frame Hypothesis draws brings this many byte-level mutants with it.
MUTANTS_PER_FRAME = int(os.environ.get("FUZZ_MUTANTS") or 15)
# Each request schemathesis draws brings this many cheap variants of it.
API_VARIANTS = 4


def examples(count: int) -> hypothesis_settings:
    """Seeded and repeatable (derandomized, no example database), no deadline on a busy
    machine; the budget is the number of cases, not a time."""
    return hypothesis_settings(
        max_examples=max(1, count), derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck), print_blob=True,
    )  # fmt: skip


class Tally:
    """Cases and failures of one surface; a failure keeps its first few examples."""

    def __init__(self, surface: str) -> None:
        self.surface, self.cases, self.failures, self.examples = surface, 0, 0, []
        self.started = time.monotonic()

    def fail(self, case: object, why: str) -> None:
        self.failures += 1
        if len(self.examples) < 5:
            self.examples.append({"case": repr(case)[:300], "why": why[:300]})

    def record(self, **figures) -> dict:
        row = {"cases": self.cases, "failures": self.failures,
               "seconds": round(time.monotonic() - self.started, 1),
               "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
               **figures, "examples": self.examples}  # fmt: skip
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        data[self.surface] = row
        RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print(f"\n  [fuzz {self.surface}] {self.cases} cases, {self.failures} failures, "
              f"{row['seconds']} s")  # fmt: skip
        return row


def table(data: dict) -> str:
    lines = [f"{'surface':<28} {'cases':>10} {'failures':>9} {'seconds':>8}  database"]
    for surface, row in sorted(data.items()):
        lines.append(f"{surface:<28} {row['cases']:>10,} {row['failures']:>9} "
                     f"{row['seconds']:>8}  {row.get('database', '')}")  # fmt: skip
    frames = sum(r["cases"] for s, r in data.items() if s.startswith("frames"))
    requests = sum(r["cases"] for s, r in data.items() if not s.startswith("frames"))
    lines.append(f"{'total frames':<28} {frames:>10,}")
    lines.append(f"{'total requests':<28} {requests:>10,}")
    return "\n".join(lines)


if __name__ == "__main__":  # `make fuzz` prints the table
    print(table(json.loads(RESULTS.read_text())))
