"""Tick statistics of one match: counters and fixed-bucket histograms that merge by addition.

Kept in the runner's memory, flushed to Redis about once a second (``m:{id}:stats``), and
summed across matches by the benchmark and the metrics endpoint.
"""

import json
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate, compress

import orjson

BUCKET_MS = 0.1
BUCKETS = 1000  # 0 .. 100 ms; the last bucket takes everything above


def _bucket(ms: float) -> int:
    return min(BUCKETS - 1, max(0, int(ms / BUCKET_MS)))


def _nonzero(hist: list[int]) -> tuple[list[int], list[int]]:
    """The non-empty buckets and their counts: picked in C, so that what follows loops over a
    few dozen buckets rather than a thousand (every runner does this once a second)."""
    indices = list(compress(range(len(hist)), hist))
    return indices, [hist[i] for i in indices]


def _percentile(nonzero: tuple[list[int], list[int]], q: float) -> float:
    indices, counts = nonzero
    cumulative = list(accumulate(counts))
    if not cumulative:
        return 0.0
    rank = q * cumulative[-1]
    if rank <= 0:
        return BUCKET_MS  # as the walk over every bucket answered: the first one reaches 0
    at = bisect_left(cumulative, rank)
    if at >= len(indices):
        return BUCKETS * BUCKET_MS
    return round((indices[at] + 1) * BUCKET_MS, 3)


def percentile(hist: list[int], q: float) -> float:
    """Upper edge (ms) of the bucket holding the q-quantile; 0.0 for an empty histogram."""
    return _percentile(_nonzero(hist), q)


@dataclass
class TickStats:
    ticks: int = 0
    skipped: int = 0
    overruns: int = 0
    duration_sum_ms: float = 0.0
    jitter_sum_ms: float = 0.0
    duration_max_ms: float = 0.0
    jitter_hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    duration_hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def record(self, *, jitter_ms: float, duration_ms: float, period_ms: float) -> None:
        self.ticks += 1
        self.jitter_hist[_bucket(jitter_ms)] += 1
        self.duration_hist[_bucket(duration_ms)] += 1
        self.duration_sum_ms += duration_ms
        self.jitter_sum_ms += jitter_ms
        self.duration_max_ms = max(self.duration_max_ms, duration_ms)
        # Overrun: the tick was not done by the time the next one was due.
        if jitter_ms + duration_ms > period_ms:
            self.overruns += 1

    def summary(self, jitter=None, duration=None) -> dict:
        """``jitter``, ``duration``: the histograms' ``_nonzero``, when the caller has them."""
        jitter = jitter or _nonzero(self.jitter_hist)
        duration = duration or _nonzero(self.duration_hist)
        return {
            "ticks": self.ticks,
            "skipped": self.skipped,
            "overruns": self.overruns,
            "jitter_p50_ms": _percentile(jitter, 0.5),
            "jitter_p99_ms": _percentile(jitter, 0.99),
            "jitter_mean_ms": round(self.jitter_sum_ms / self.ticks, 4) if self.ticks else 0,
            "duration_mean_ms": round(self.duration_sum_ms / self.ticks, 4) if self.ticks else 0,
            "duration_p99_ms": _percentile(duration, 0.99),
            "duration_max_ms": round(self.duration_max_ms, 3),
        }

    def to_json(self) -> bytes:
        jitter, duration = _nonzero(self.jitter_hist), _nonzero(self.duration_hist)
        return orjson.dumps({**self.summary(jitter, duration),
                             "jitter_hist": dict(zip(*jitter, strict=True)),
                             "duration_hist": dict(zip(*duration, strict=True))},
                            option=orjson.OPT_NON_STR_KEYS)  # fmt: skip

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> "TickStats":
        stats = cls()
        if not raw:
            return stats
        data = json.loads(raw)
        stats.ticks = data.get("ticks", 0)
        stats.skipped = data.get("skipped", 0)
        stats.overruns = data.get("overruns", 0)
        stats.duration_sum_ms = data.get("duration_mean_ms", 0) * stats.ticks
        stats.jitter_sum_ms = data.get("jitter_mean_ms", 0) * stats.ticks
        stats.duration_max_ms = data.get("duration_max_ms", 0)
        for index, count in data.get("jitter_hist", {}).items():
            stats.jitter_hist[int(index)] = count
        for index, count in data.get("duration_hist", {}).items():
            stats.duration_hist[int(index)] = count
        return stats

    def since(self, before: "TickStats") -> "TickStats":
        """What was recorded between ``before`` and now (a measurement window). Counts never
        go below zero: in a sum over matches, one that ended meanwhile drops out."""
        diff = TickStats()
        diff.ticks = max(0, self.ticks - before.ticks)
        diff.skipped = max(0, self.skipped - before.skipped)
        diff.overruns = max(0, self.overruns - before.overruns)
        pairs = zip(self.jitter_hist, before.jitter_hist, strict=True)
        diff.jitter_hist = [max(0, a - b) for a, b in pairs]
        pairs = zip(self.duration_hist, before.duration_hist, strict=True)
        diff.duration_hist = [max(0, a - b) for a, b in pairs]
        return diff

    def merge(self, other: "TickStats") -> None:
        self.ticks += other.ticks
        self.skipped += other.skipped
        self.overruns += other.overruns
        self.duration_sum_ms += other.duration_sum_ms
        self.jitter_sum_ms += other.jitter_sum_ms
        self.duration_max_ms = max(self.duration_max_ms, other.duration_max_ms)
        for index in range(BUCKETS):
            self.jitter_hist[index] += other.jitter_hist[index]
            self.duration_hist[index] += other.duration_hist[index]
