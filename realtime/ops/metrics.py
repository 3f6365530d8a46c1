"""Prometheus metrics of the whole system, read at scrape time from the database and Redis.

Several processes produce the numbers (Daphnes, tick workers), so each keeps its own in
memory and adds them about once a second to its hash in Redis (``realtime.figures``); any
Daphne serves every process's figures, each series labelled with the ``process`` it came
from. Scrape one Daphne for these (``/metrics``); each Daphne's own HTTP request metrics and
Python process figures are at ``/metrics/process`` (``process_registry``), scraped per replica.

Counters and histograms are cumulative per process (they start again from zero only when
Redis loses its data, which Prometheus reads as a counter reset); gauges are exported for
processes that flushed within ``figures.STALE_S``.
"""

import contextlib
import time

import redis
from django.db.models import Count
from prometheus_client import REGISTRY
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import CollectorRegistry

from matches.models import Match
from realtime import figures, protocol, store
from realtime.engine import heartbeat

COUNTERS = {  # field -> (series, help)
    "ticks": ("arcade_ticks", "Ticks run."),
    "ticks_skipped": ("arcade_ticks_skipped", "Ticks skipped after a stall."),
    "tick_overruns": ("arcade_tick_overruns", "Ticks not done by the next deadline."),
    "ws_frames_sent": ("arcade_ws_frames_sent", "Websocket messages sent by this Daphne."),
    "ws_bytes_sent": ("arcade_ws_bytes_sent", "Bytes of the websocket messages sent."),
    "handshakes_abandoned": ("arcade_handshakes_abandoned", "Websocket handshakes dropped "
                             "unanswered: the client left while they waited (a stampede)."),
    "states_held_back": ("arcade_states_held_back", "States a Daphne did not relay: not newer "
                         "than the last it relayed for their match (a resume after a failover)."),
}  # fmt: skip
LABELLED = {  # field prefix -> (series, label, values always exported, help)
    "broadcasts": ("arcade_broadcasts", "kind", ("state",), "Messages published to match "
                   "groups, by kind (one PUBLISH per tick, whatever the sockets)."),
    "inputs_refused": ("arcade_inputs_refused", "reason",
                       tuple(code for code, _ in protocol.INPUT_REFUSED.values()),
                       "Inputs refused, by reason (the gateway's and the runner's)."),
    "ws_closed": ("arcade_ws_closed", "code",
                  tuple(str(c) for c in (protocol.CLOSE_TOO_SLOW, protocol.CLOSE_RATE_LIMITED)),
                  "Websockets closed, by close code (4408 too_slow, 4429 rate_limited, "
                  "1006 dropped; docs/protocol.md)."),
    "redis_reconnects": ("arcade_redis_reconnects", "connection", ("hub", "inputs", "ticks"),
                         "Long-lived Redis connections lost or found dead and replaced."),
}  # fmt: skip
HISTOGRAMS = {
    "tick_duration": ("arcade_tick_duration_seconds", "Time from a tick's start to its commit."),
    "tick_jitter": ("arcade_tick_jitter_seconds", "Lateness of a tick's start."),
    "tick_batch": ("arcade_tick_batch_seconds", "One batch of the scheduler (the ticks of "
                   "every match due at once)."),
    "redis_batch": ("arcade_redis_batch_seconds", "The Redis pipelines of one batch."),
    "input_latency": ("arcade_input_latency_seconds", "Input arriving at Daphne to the state "
                      "that applied it arriving there (one sample per match and tick)."),
}  # fmt: skip
GAUGES = {
    "matches_held": ("arcade_tick_matches_held", "Matches this tick worker runs."),
    "ws_sockets": ("arcade_ws_sockets", "Websockets open on this Daphne."),
    "ws_write_backlog_bytes": ("arcade_ws_write_backlog_bytes", "Bytes written to this "
                               "Daphne's sockets and not yet sent."),
}  # fmt: skip
# Counters each kind of process produces: exported at zero (labelled ones with their known
# values) until they count something, so that a rate over them is 0 rather than nothing.
PRODUCED_BY = {
    "ticks": ("ticks", "ticks_skipped", "tick_overruns", "broadcasts", "inputs_refused"),
    "ws": ("ws_frames_sent", "ws_bytes_sent", "ws_closed", "inputs_refused", "states_held_back"),
}


def readiness_family(readiness):
    failed, _ = readiness()
    ready = GaugeMetricFamily("arcade_ready", "1 when /readyz passes, by check and overall.",
                              labels=["check"])  # fmt: skip
    for check in ("database", "redis", "tick_workers"):
        ready.add_metric([check], 0 if check in failed else 1)
    ready.add_metric(["all"], 0 if failed else 1)
    return ready, failed


class ArcadeCollector:
    """Reads everything at scrape time: readiness (``realtime.ops.health``'s checks), two DB
    queries, two Redis round trips."""

    def __init__(self, readiness) -> None:
        self.readiness = readiness

    def collect(self):
        ready, failed = readiness_family(self.readiness)
        yield ready
        by_status = dict.fromkeys(Match.Status.values, 0)
        for row in Match.objects.values("status").annotate(n=Count("id")):
            by_status[row["status"]] = row["n"]
        matches = GaugeMetricFamily("arcade_matches", "Matches by status.", labels=["status"])
        for status, n in by_status.items():
            matches.add_metric([status], n)
        yield matches
        if "redis" not in failed:
            # Redis gone since the check: arcade_ready says so at the next scrape.
            with contextlib.suppress(redis.RedisError):
                yield from self._from_redis()

    def _from_redis(self):
        running = list(
            Match.objects.filter(status=Match.Status.RUNNING).values_list("pk", flat=True)
        )
        r = store.client()
        now = time.time()
        names = [name.decode() for name in r.zrangebyscore(store.PROCESSES, now - 3600, "+inf")]
        pipe = r.pipeline(transaction=False)
        for match_id in running:
            pipe.hlen(store.key(match_id, "sockets"))
            pipe.hkeys(store.key(match_id, "rtt"))
        for name in names:
            pipe.hgetall(store.process_key(name))
        pipe.zrangebyscore(heartbeat.INDEX, "-inf", "+inf", withscores=True)
        replies = pipe.execute()
        beats = replies.pop()

        players = spectators = 0
        for index in range(len(running)):
            sockets, rtt_fields = replies[2 * index : 2 * index + 2]
            players += sockets
            spectators += sum(1 for f in rtt_fields if f.startswith(b"spectator:"))
        sockets = GaugeMetricFamily(
            "arcade_connected_sockets",
            "Open match sockets in running matches (spectators counted from their first pong).",
            labels=["role"],
        )
        sockets.add_metric(["player"], players)
        sockets.add_metric(["spectator"], spectators)
        yield sockets

        alive = [name for name, at in beats if at >= now - heartbeat.TTL_S]
        yield GaugeMetricFamily("arcade_tick_workers", "Tick workers with a recent heartbeat.",
                                len(alive))  # fmt: skip
        age = GaugeMetricFamily(
            "arcade_tick_worker_heartbeat_age_seconds",
            "Seconds since each tick worker's last heartbeat (one that stopped cleanly is "
            "removed; one that died stays for an hour).",
            labels=["process"],
        )
        for name, at in beats:
            age.add_metric([name.decode()], max(0.0, now - at))
        yield age

        hashes = {}
        for name, raw in zip(names, replies[2 * len(running) :], strict=True):
            if raw:
                hashes[name] = {k.decode(): v for k, v in raw.items()}
        yield from _process_families(hashes, now)


def _process_families(hashes: dict[str, dict[str, bytes]], now: float):
    """The per-process series, from each process's hash (fields in realtime.figures)."""
    counters = {f: CounterMetricFamily(n, h, labels=["process"]) for f, (n, h) in COUNTERS.items()}
    labelled = {f: CounterMetricFamily(n, h, labels=["process", label])
                for f, (n, label, _, h) in LABELLED.items()}  # fmt: skip
    hists = {f: HistogramMetricFamily(n, h, labels=["process"]) for f, (n, h) in HISTOGRAMS.items()}
    gauges = {f: GaugeMetricFamily(n, h, labels=["process"]) for f, (n, h) in GAUGES.items()}
    for process, fields in sorted(hashes.items()):
        produced = PRODUCED_BY.get(_kind(fields), ())
        found: dict[str, dict[str, int]] = {}
        plain = dict.fromkeys((name for name in produced if name in counters), 0)
        for field, value in fields.items():
            if field.startswith("c:"):
                name, _, label = field[2:].partition(":")
                if label and name in labelled:
                    found.setdefault(name, {})[label] = int(value)
                elif name in counters:
                    plain[name] = int(value)
        for name, value in plain.items():
            counters[name].add_metric([process], value)
        for name, (_, _, always, _) in LABELLED.items():
            values = found.get(name, {})
            if values or name in produced:
                for label in sorted({*values, *always}):
                    labelled[name].add_metric([process, label], values.get(label, 0))
        for name in HISTOGRAMS:
            buckets = _buckets(fields, name)
            if buckets is not None:
                counts, total_s = buckets
                hists[name].add_metric([process], counts, total_s)
        if float(fields.get("at", 0)) >= now - figures.STALE_S:
            for name in GAUGES:
                if f"g:{name}" in fields:
                    gauges[name].add_metric([process], float(fields[f"g:{name}"]))
    yield from counters.values()
    yield from labelled.values()
    yield from hists.values()
    yield from gauges.values()


def _kind(fields: dict) -> str:
    """ "ticks" for a tick worker's hash, "ws" for a Daphne's (by the fields it writes)."""
    if any(f.startswith(("c:ws_", "g:ws_")) for f in fields):
        return "ws"
    return "ticks" if any(f.startswith(("c:tick", "g:matches_held")) for f in fields) else ""


def _buckets(fields: dict, name: str) -> tuple[list[tuple[str, int]], float] | None:
    """Cumulative (le, count) pairs in seconds and the sum, or None when never observed."""
    counts = [int(fields.get(f"h:{name}:{i}", 0)) for i in range(len(figures.BOUNDS_MS) + 1)]
    if not any(counts):
        return None
    out, seen = [], 0
    for bound, n in zip((*figures.BOUNDS_MS, None), counts, strict=True):
        seen += n
        out.append(("+Inf" if bound is None else repr(bound / 1000), seen))
    return out, int(fields.get(f"h:{name}:sum_us", 0)) / 1e6


def registry(readiness) -> CollectorRegistry:
    """A registry of our collector only (no process metrics of whichever Daphne answered)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(ArcadeCollector(readiness))
    return reg


def process_registry() -> CollectorRegistry:
    """This process's own: HTTP requests (django-prometheus), Python's process and GC."""
    return REGISTRY
