"""Tick statistics (realtime/engine/stats.py): the percentiles and the JSON the runner
flushes, against the plain definitions they replaced for speed."""

import orjson
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.engine.stats import BUCKET_MS, BUCKETS, TickStats, percentile


def walked(hist: list[int], q: float) -> float:
    """The definition: the upper edge of the first bucket where the running count reaches
    q of the total."""
    total = sum(hist)
    if not total:
        return 0.0
    seen = 0
    for index, count in enumerate(hist):
        seen += count
        if seen >= q * total:
            return round((index + 1) * BUCKET_MS, 3)
    return BUCKETS * BUCKET_MS


sparse_hists = st.dictionaries(st.integers(0, BUCKETS - 1), st.integers(1, 10_000), max_size=60)


def dense(buckets: dict[int, int]) -> list[int]:
    hist = [0] * BUCKETS
    for index, count in buckets.items():
        hist[index] = count
    return hist


class PercentileTests(SimpleTestCase):
    @settings(max_examples=300, deadline=None)
    @given(sparse_hists, st.sampled_from([0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0]))
    def test_it_is_the_bucket_where_the_running_count_reaches_q(self, buckets, q):
        hist = dense(buckets)
        self.assertEqual(percentile(hist, q), walked(hist, q))

    def test_an_empty_histogram_is_zero_and_the_last_bucket_takes_the_rest(self):
        self.assertEqual(percentile([0] * BUCKETS, 0.99), 0.0)
        self.assertEqual(percentile(dense({BUCKETS - 1: 3}), 0.5), BUCKETS * BUCKET_MS)


class JsonTests(SimpleTestCase):
    @settings(max_examples=100, deadline=None)
    @given(sparse_hists, sparse_hists)
    def test_the_flushed_json_holds_the_summary_and_comes_back_whole(self, jitter, duration):
        stats = TickStats(ticks=sum(jitter.values()), skipped=2, overruns=1)
        stats.jitter_hist, stats.duration_hist = dense(jitter), dense(duration)
        data = orjson.loads(stats.to_json())
        self.assertEqual(data["jitter_hist"], {str(i): c for i, c in sorted(jitter.items())})
        self.assertEqual(data["jitter_p99_ms"], walked(stats.jitter_hist, 0.99))
        self.assertEqual(data["duration_p99_ms"], walked(stats.duration_hist, 0.99))
        back = TickStats.from_json(stats.to_json())
        self.assertEqual((back.jitter_hist, back.duration_hist, back.ticks, back.skipped),
                         (stats.jitter_hist, stats.duration_hist, stats.ticks, 2))  # fmt: skip
