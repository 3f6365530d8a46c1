"""Prometheus metrics, computed at scrape time from the database and Redis.

Several processes produce the numbers (Daphne instances, tick workers), so none of them keeps
metrics in its own memory: counters live in one Redis hash that every process increments,
and the collector reads that hash, the running matches' stats and the database when scraped.
Any Daphne instance serves the same, complete figures.

Producers (``store.COUNTERS``): the tick runner adds its ticks, skips, overruns, state
broadcasts and the inputs it dropped at each stats flush (about once a second per match, in
one pipeline); the gateway counts the inputs it refuses with ``gateway.relay.count_refused``.
"""

from django.db.models import Count
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.registry import CollectorRegistry

from matches.models import Match
from realtime import store
from realtime.engine import heartbeat
from realtime.engine.stats import BUCKET_MS, TickStats

# Bucket upper bounds (ms) of the exported histograms; a 30 Hz tick lasts 33 ms.
BOUNDS_MS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)  # multiples of the 0.1 ms buckets


def _histogram(hist: list[int], total_ms: float | None) -> tuple[list[tuple[str, float]], float]:
    """Cumulative buckets in seconds from 0.1 ms buckets; the sum is estimated from bucket
    midpoints when the exact one is not kept (jitter)."""
    buckets, seen, index = [], 0, 0
    for bound in BOUNDS_MS:
        # Bucket i holds [i, i+1) x 0.1 ms: it is under `bound` when (i+1) x 0.1 <= bound.
        upto = round(bound / BUCKET_MS)
        while index < upto:
            seen += hist[index]
            index += 1
        buckets.append((repr(bound / 1000), seen))
    buckets.append(("+Inf", sum(hist)))
    if total_ms is None:
        total_ms = sum(count * (i + 0.5) * BUCKET_MS for i, count in enumerate(hist) if count)
    return buckets, total_ms / 1000


class ArcadeCollector:
    """Reads everything at scrape time; one DB query and two Redis round trips."""

    def collect(self):
        by_status = dict.fromkeys(Match.Status.values, 0)
        for row in Match.objects.values("status").annotate(n=Count("id")):
            by_status[row["status"]] = row["n"]
        matches = GaugeMetricFamily("arcade_matches", "Matches by status.", labels=["status"])
        for status, n in by_status.items():
            matches.add_metric([status], n)
        yield matches

        running = list(
            Match.objects.filter(status=Match.Status.RUNNING).values_list("pk", flat=True)
        )
        r = store.client()
        pipe = r.pipeline(transaction=False)
        for match_id in running:
            pipe.hlen(store.key(match_id, "sockets"))
            pipe.hkeys(store.key(match_id, "rtt"))
            pipe.hmget(store.key(match_id, "stats"), ["json", "rate"])
        pipe.hgetall(store.COUNTERS)
        replies = pipe.execute()
        counters = {k.decode(): int(v) for k, v in replies.pop().items()}

        players = spectators = 0
        rate = 0.0
        merged = TickStats()
        for index in range(len(running)):
            sockets, rtt_fields, (stats_json, match_rate) = replies[3 * index : 3 * index + 3]
            players += sockets
            spectators += sum(1 for f in rtt_fields if f.startswith(b"spectator:"))
            rate += float(match_rate or 0)
            merged.merge(TickStats.from_json(stats_json))

        sockets = GaugeMetricFamily(
            "arcade_connected_sockets",
            "Open match sockets in running matches (spectators counted from their first pong).",
            labels=["role"],
        )
        sockets.add_metric(["player"], players)
        sockets.add_metric(["spectator"], spectators)
        yield sockets
        yield GaugeMetricFamily(
            "arcade_ticks_per_second", "Ticks per second achieved by all running matches.", rate
        )
        yield GaugeMetricFamily(
            "arcade_tick_workers", "Tick workers with a recent heartbeat.", len(heartbeat.alive())
        )
        buckets, total = _histogram(merged.duration_hist, merged.duration_sum_ms)
        yield GaugeHistogramMetricFamily(
            "arcade_tick_duration_seconds",
            "Tick durations of the running matches, over their lifetime so far.",
            buckets=buckets,
            gsum_value=total,
        )
        buckets, total = _histogram(merged.jitter_hist, None)
        yield GaugeHistogramMetricFamily(
            "arcade_tick_jitter_seconds",
            "Tick start lateness of the running matches, over their lifetime (sum estimated).",
            buckets=buckets,
            gsum_value=total,
        )

        for name, field, doc in (
            ("arcade_ticks", "ticks", "Ticks run by all tick workers."),
            ("arcade_ticks_skipped", "ticks_skipped", "Ticks skipped after a stall."),
            ("arcade_tick_overruns", "tick_overruns", "Ticks not done by the next deadline."),
        ):
            yield CounterMetricFamily(name, doc, counters.get(field, 0))
        yield _labelled(counters, store.BROADCASTS, "arcade_broadcasts", "Messages published to "
                        "match groups, by kind.", "kind")  # fmt: skip
        yield _labelled(counters, store.REFUSED, "arcade_inputs_refused", "Inputs refused, by "
                        "reason.", "reason")  # fmt: skip
        yield _labelled(counters, store.RECONNECTS, "arcade_redis_reconnects", "Long-lived Redis "
                        "connections lost or found dead and replaced.", "connection")  # fmt: skip


def _labelled(counters: dict, prefix: str, name: str, doc: str, label: str):
    family = CounterMetricFamily(name, doc, labels=[label])
    for field, value in sorted(counters.items()):
        if field.startswith(prefix):
            family.add_metric([field[len(prefix) :]], value)
    return family


def registry() -> CollectorRegistry:
    """A registry of our collector only (no process metrics of whichever Daphne answered)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(ArcadeCollector())
    return reg
