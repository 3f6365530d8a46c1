"""Fault-injection results: every scenario records what it measured in var/chaos/results.json
(`make chaos` prints it; docs/operations.md quotes it)."""

import functools
import json
import time
from pathlib import Path

from django.conf import settings

RESULTS = Path(settings.VAR_DIR) / "chaos" / "results.json"


def record(name: str, *, passed: bool, **figures) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[name] = {"passed": passed, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  **figures}  # fmt: skip
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"\n  [{name}] {'passed' if passed else 'FAILED'} {figures}")


def scenario(name: str):
    """Decorate a test method that returns its figures; the outcome is recorded either way."""

    def decorate(test):
        @functools.wraps(test)
        def run(self, *args, **kwargs):
            figures = {}
            try:
                figures = test(self, *args, **kwargs) or {}
            except BaseException as exc:
                record(name, passed=False, error=f"{type(exc).__name__}: {exc}"[:500])
                raise
            record(name, passed=True, **figures)

        return run

    return decorate
