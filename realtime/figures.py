"""Per-process figures for /metrics: what each tick worker and each Daphne counts in memory
and adds to its own Redis hash about once a second (``store.process_key``).

A process names itself once (``name_process``): a tick worker by its Celery node name, a
Daphne by host and pid. The hash's fields, written by ``store.FLUSH_PROCESS`` and read by
``realtime.ops.metrics``:

    c:<name>            counter, added with HINCRBY
    h:<name>:<i>        histogram: observations in bucket i (up to BOUNDS_MS[i]; i = len is +Inf)
    h:<name>:sum_us     histogram: the sum of the observations, microseconds (HINCRBY takes ints)
    g:<name>            gauge: the last value (HSET)

Only integer increments happen on the hot paths; the flush turns them into these fields.
"""

import bisect
import os
import socket

# Bucket upper bounds (ms) of every exported histogram: a 30 Hz tick lasts 33 ms, and the
# jitter bar is 5 ms. Multiples of the tick stats' 0.1 ms buckets (realtime.engine.stats).
BOUNDS_MS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
# Stats hash of a process gone quiet this long: its gauges are no longer exported.
STALE_S = 10.0

_name = f"{socket.gethostname()}:{os.getpid()}"


def name_process(name: str) -> None:
    global _name
    _name = name


def process_name() -> str:
    return _name


def bucket_of(ms: float) -> int:
    """Index of the bucket an observation falls in (len(BOUNDS_MS) for +Inf)."""
    return bisect.bisect_left(BOUNDS_MS, ms)


def coarse(fine: list[int], fine_ms: float) -> list[int]:
    """Counts per exported bucket from a histogram of ``fine_ms`` buckets (bucket i holds
    [i, i+1) x fine_ms; its last bucket takes everything above and lands in +Inf)."""
    out, start = [], 0
    for bound in BOUNDS_MS:
        end = round(bound / fine_ms)
        out.append(sum(fine[start:end]))
        start = end
    out.append(sum(fine[start:]))
    return out


def histogram_fields(name: str, counts: list[int], sum_ms: float) -> list:
    """``field, n`` pairs adding ``counts`` (per bucket) and ``sum_ms`` to a histogram."""
    pairs = [x for i, n in enumerate(counts) if n for x in (f"h:{name}:{i}", n)]
    if sum_ms:
        pairs += [f"h:{name}:sum_us", round(sum_ms * 1000)]
    return pairs


class Figures:
    """One process's counters and histograms since the last flush, and its gauges."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.hists: dict[str, list] = {}  # name -> [counts per bucket, sum ms]
        self.gauges: dict[str, float] = {}

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def observe(self, name: str, ms: float) -> None:
        hist = self.hists.get(name)
        if hist is None:
            hist = self.hists[name] = [[0] * (len(BOUNDS_MS) + 1), 0.0]
        hist[0][bucket_of(ms)] += 1
        hist[1] += ms

    def take(self) -> tuple[list, list]:
        """The increments since the last call (``field, n`` pairs) and the gauges (``field,
        value`` pairs), for ``store.FLUSH_PROCESS``; the increments start again from zero."""
        increments = [x for name, n in self.counters.items() if n for x in (f"c:{name}", n)]
        for name, (counts, sum_ms) in self.hists.items():
            increments += histogram_fields(name, counts, sum_ms)
        self.counters, self.hists = {}, {}
        gauges = [x for name, value in self.gauges.items() for x in (f"g:{name}", value)]
        return increments, gauges
