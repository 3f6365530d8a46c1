"""`make soak`: the whole stack as an operator runs it, for a long while, under the whole
match lifecycle (realtime/dev/loadtest/lifecycle.py), watched once a minute.

Every sample records each server process's RSS and open file descriptors (a Celery worker
with its pool children), Redis ``used_memory`` and key count, the database's row counts, the
tick jitter p99 of the minute (the tick workers' histogram on ``/metrics``) and the update gap
p99 the players' clients measured. At the end it checks what must hold however long the stack
runs: every match a player saw finish has its result, its ratings and its replay in the
database exactly once; no traceback in any process's log; no socket closed with a code the
clients did not ask for; each process's memory flat after the warm-up (least squares over the
later samples, MiB per 10 minutes); Redis holding keys only of live matches and of finished
ones within ``MATCH_RETENTION_S``.
"""

import json
import math
import os
import platform
import re
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Count, Q
from prometheus_client.parser import text_string_to_metric_families

from matches.models import AuditLog, Match, Participation, Player, Rating, Replay
from realtime import store
from realtime.dev import benchchart, benchstack
from realtime.dev.loadtest import lifecycle
from realtime.dev.loadtest.client import BUCKETS, Window, pct
from realtime.dev.loadtest.orchestrator import Bar

TRACEBACK = "Traceback (most recent call last)"
# Clients ask for their own closes (after ``over``, a spectator leaving, a mid-match drop):
# the client counts a close only when the server closed first, before ``over``.
MATCH_KEY = re.compile(rb"^m:\{(\d+)\}:")
# A finished match's keys go at the first supervisor pass after MATCH_RETENTION_S: allow a
# few passes' worth (SUPERVISOR_INTERVAL_S, 1 s) and a busy machine.
RETENTION_SLACK_S = 30.0
# What a player saw of a finished match: its `over`, or only the final state (then the
# `over` was lost: counted among the client errors, and the result is checked all the same).
FINISHED = ("finished", "finished_without_over")
SERVICES = ("daphne", "tick-worker", "default-worker", "beat")
MODELS = {"matches": Match, "participations": Participation, "replays": Replay,
          "ratings": Rating, "players": Player, "sessions": Session,
          "audit_log": AuditLog}  # fmt: skip


@dataclass
class Options:
    minutes: float = 30.0
    players: int = 100
    spectators: int = 20
    processes: int = 2
    port: int = 8078
    sample_s: float = 60.0
    warmup_minutes: float = 5.0
    retention_s: float = 300.0
    score_to: tuple = (1, 2)
    created_share: float = 0.8
    drop_share: float = 0.1
    replay_share: float = 0.3
    nice: int = 10
    out: Path = field(default_factory=lambda: Path(settings.VAR_DIR) / "soak")
    env: dict = field(default_factory=dict)  # more environment for the stack's processes


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def _memory_and_fds(proc: psutil.Process | None) -> tuple[float | None, int | None]:
    """RSS (MiB) and open descriptors of a process and its children (a prefork pool)."""
    if proc is None:
        return None, None
    rss = fds = 0
    for p in _tree(proc):
        try:
            rss += p.memory_info().rss
            fds += p.num_fds()
        except psutil.Error:
            continue
    return round(rss / 2**20, 2), fds


def _redis_process(redis_proc) -> psutil.Process | None:
    """The redis-server we started, or the one listening on REDIS_URL's port on this host."""
    if redis_proc is not None:
        return psutil.Process(redis_proc.pid)
    port = int(settings.REDIS_URL.rsplit(":", 1)[-1].split("/")[0])
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
            return psutil.Process(conn.pid)
    return None  # a remote Redis: its memory is in used_memory only


def jitter_histogram(metrics_text: str) -> dict[float, float]:
    """Cumulative tick-jitter buckets (upper bound in ms -> count), summed over tick workers."""
    buckets: Counter = Counter()
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "arcade_tick_jitter_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                le = sample.labels["le"]
                buckets[math.inf if le == "+Inf" else float(le) * 1000] += sample.value
    return dict(buckets)


def histogram_quantile(before: dict, after: dict, q: float) -> float | None:
    """The q-quantile of the observations between two cumulative histograms, interpolated
    within its bucket as Prometheus' histogram_quantile does (ms); None without any."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank, lower, below = q * counts[-1], 0.0, 0.0
    for bound, seen in zip(bounds, counts, strict=True):
        if seen >= rank:
            if bound == math.inf:
                return lower  # beyond the last bound: the bound is all that is known
            return round(lower + (bound - lower) * (rank - below) / max(seen - below, 1e-9), 2)
        lower, below = bound, seen
    return lower


def slope_per_10_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (minutes, MiB) points, in MiB per 10 minutes."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return round(10 * sum((x - mx) * (y - my) for x, y in points) / sxx, 3)


def scan_logs(out: Path) -> dict[str, list[str]]:
    """Per log file, the first line after each traceback's header (what raised)."""
    found = {}
    for path in sorted(out.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        hits = []
        for i, line in enumerate(lines):
            if TRACEBACK in line:
                tail = next((t for t in lines[i + 1 :] if t and not t.startswith(" ")), "")
                hits.append(tail[:300])
        if hits:
            found[path.name] = hits
    return found


WARNING = re.compile(r" (WARNING|ERROR|CRITICAL) (\S+) (.{0,60})")


def scan_warnings(out: Path) -> dict[str, dict[str, int]]:
    """Per log file, its WARNING and ERROR lines counted by level, logger and first words."""
    found = {}
    for path in sorted(out.glob("*.log")):
        counts: Counter = Counter()
        for line in path.read_text(errors="replace").splitlines():
            hit = WARNING.search(line)
            if hit:
                words = re.sub(r"[\w-]*\d[\w./-]*", "#", hit.group(3))  # ids and figures
                counts[f"{hit.group(1)} {hit.group(2)} {words}"] += 1
        if counts:
            found[path.name] = dict(counts.most_common(10))
    return found


class Soak:
    def __init__(self, options: Options, log: Callable[[str], None] = print) -> None:
        self.o, self.log = options, log
        self.samples: list[dict] = []
        self.ended: list[dict] = []
        self.counts: Counter = Counter()
        self.players_total, self.spectators_total = Window(), Window()
        self.keys_unbounded: list[dict] = []

    # --- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        o = self.o
        o.out.mkdir(parents=True, exist_ok=True)
        for old in o.out.glob("*.log"):
            old.unlink()
        env = {"MATCH_RETENTION_S": str(o.retention_s), **o.env}
        started = time.monotonic()
        with benchstack.running_stack(port=o.port, out=o.out, **env) as (procs, redis_proc):
            self.watched = {name: psutil.Process(procs[name].pid) for name in SERVICES}
            self.watched["redis"] = _redis_process(redis_proc)
            self.base = f"http://127.0.0.1:{o.port}"
            self.jitter_before = self._jitter()
            workers = lifecycle.spawn(
                o.processes, nice=o.nice, log_dir=o.out, base_url=self.base, pairs=o.players // 2,
                spectators=o.spectators, score_to=tuple(o.score_to),
                created_share=o.created_share, drop_share=o.drop_share,
                replay_share=o.replay_share,
            )  # fmt: skip
            try:
                for _, conn in workers:
                    conn.send(("start", None))
                for _, conn in workers:
                    conn.recv()
                t0 = time.monotonic()
                self._sample(t0, workers)
                end = t0 + o.minutes * 60
                while (now := time.monotonic()) < end - 1:
                    time.sleep(max(0.0, min(end, t0 + o.sample_s * len(self.samples)) - now))
                    self._sample(t0, workers)
            finally:
                for _, conn in workers:
                    conn.send(("stop", None))
                for proc, conn in workers:
                    if conn.poll(60):
                        self._take(conn.recv()[1])
                    proc.join(10)
                    if proc.is_alive():
                        proc.kill()
            self._wait_recorded()
            results = self._check()
        results["tracebacks_by_log"] = scan_logs(o.out)
        results["tracebacks"] = sum(len(v) for v in results["tracebacks_by_log"].values())
        results["warnings_by_log"] = scan_warnings(o.out)
        results["wall_s"] = round(time.monotonic() - started, 1)
        return results

    def _take(self, report: dict) -> dict:
        self.players_total.merge(report["players"])
        self.spectators_total.merge(report["spectators"])
        self.ended += report["ended"]
        self.counts.update(report["counts"])
        return report

    def _jitter(self) -> dict:
        try:
            with urllib.request.urlopen(self.base + "/metrics", timeout=30) as response:
                return jitter_histogram(response.read().decode())
        except OSError:
            return {}

    def _sample(self, t0: float, workers) -> None:
        players, spectators = Window(), Window()
        connected = [0, 0]
        lag = [0] * BUCKETS
        for _, conn in workers:
            conn.send(("report", None))
        for _, conn in workers:
            report = self._take(conn.recv()[1])
            players.merge(report["players"])
            spectators.merge(report["spectators"])
            connected[0] += report["players_connected"]
            connected[1] += report["spectators_connected"]
            lag = [a + b for a, b in zip(lag, report["loop_lag"], strict=True)]
        jitter = self._jitter()
        jitter_p99 = histogram_quantile(self.jitter_before, jitter, 0.99) if jitter else None
        self.jitter_before = jitter or self.jitter_before
        r = store.client()
        info = r.info("memory")
        keys = self._keys(r)
        p = players.summary(tick_hz=30)
        s = spectators.summary(tick_hz=30)
        sample = {
            "minute": round((time.monotonic() - t0) / 60, 2),
            "rss_mib": {}, "fds": {},
            "redis_used_memory_mib": round(info["used_memory"] / 2**20, 2),
            "redis_keys": keys["total"], "redis_match_ids": keys["match_ids"],
            "redis_retained_finished": keys["retained"],
            "redis_other_keys": keys["other"],
            "rows": {name: model.objects.count() for name, model in MODELS.items()},
            "matches_finished": Match.objects.filter(status=Match.Status.FINISHED).count(),
            "tick_jitter_p99_ms": jitter_p99,
            "gap_p99_ms": p["gap_p99_ms"] if p["states"] else None,
            "gap_p50_ms": p["gap_p50_ms"] if p["states"] else None,
            "delivered_ratio": p["delivered_ratio"],
            "spectator_gap_p99_ms": s["gap_p99_ms"] if s["states"] else None,
            "load_loop_lag_p99_ms": pct(lag, 0.99) if any(lag) else None,
            "players_connected": connected[0], "spectators_connected": connected[1],
            "closes": {**p["closes"], **{f"spectator:{k}": v for k, v in s["closes"].items()}},
            "errors": {**p["errors"], **{f"spectator:{k}": v for k, v in s["errors"].items()}},
        }  # fmt: skip
        for name, proc in self.watched.items():
            sample["rss_mib"][name], sample["fds"][name] = _memory_and_fds(proc)
        if keys["unbounded"]:
            self.keys_unbounded.append({"minute": sample["minute"], **keys["unbounded"]})
        self.samples.append(sample)
        self.log(
            f"{sample['minute']:>6.1f} min  finished {sample['matches_finished']:>6}  "
            f"gap p99 {sample['gap_p99_ms']} ms  jitter p99 {jitter_p99} ms  "
            f"load's loop lag p99 {sample['load_loop_lag_p99_ms']} ms  "
            f"players {connected[0]}  spectators {connected[1]}  "
            f"rss {sample['rss_mib']}  fds {sample['fds']}  "
            f"redis {sample['redis_used_memory_mib']} MiB {keys['total']} keys"
            + (f"  closes {sample['closes']}" if sample["closes"] else "")
            + (f"  errors {sample['errors']}" if sample["errors"] else "")
        )

    def _keys(self, r) -> dict:
        """Every key, by whose it is: a match's (live, or finished and retained) or not."""
        ids, other, total = set(), Counter(), 0
        for raw in r.scan_iter(count=1000):
            total += 1
            found = MATCH_KEY.match(raw)
            if found:
                ids.add(int(found.group(1)))
            else:
                other[raw.split(b":", 1)[0].decode(errors="replace")] += 1
        now = time.time()
        retained = {int(m): at for m, at in r.zrange(store.FINISHED_INDEX, 0, -1, withscores=True)}
        live = set(
            Match.objects.exclude(status__in=Match.OVER_STATUSES).values_list("pk", flat=True)
        )
        orphans = ids - live - set(retained)
        # A match the supervisor's retention dropped between the scan and the index read
        # had its keys and is no longer indexed: an orphan only if its keys are still there.
        orphans = {
            m for m in orphans if r.exists(*(store.key(m, p) for p in store.MATCH_KEY_PARTS))
        }
        overdue = [
            m for m, at in retained.items() if at < now - self.o.retention_s - RETENTION_SLACK_S
        ]
        # Keys not of a match: the queues, the figures, a quick-play mark per player at most.
        allowance = self.o.players + self.o.spectators + 200
        unbounded = {}
        if orphans:
            unbounded["orphan_match_ids"] = sorted(orphans)[:20]
        if overdue:
            unbounded["overdue_match_ids"] = sorted(overdue)[:20]
        if sum(other.values()) > allowance:
            unbounded["other_keys"] = dict(other)
        return {"total": total, "match_ids": len(ids), "retained": len(retained),
                "other": dict(other), "unbounded": unbounded}  # fmt: skip

    # --- the end checks ------------------------------------------------------------------------
    def _finished_seen(self) -> set[str]:
        return {e["match"] for e in self.ended if e["status"] in FINISHED}

    def _wait_recorded(self, timeout: float = 120.0) -> None:
        """The default worker writes a result after the final tick: give the last ones time."""
        seen = self._finished_seen()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = Match.objects.filter(public_id__in=seen, status=Match.Status.FINISHED,
                                        replay__isnull=False).count()  # fmt: skip
            if done >= len(seen):
                return
            time.sleep(1)

    def _check(self) -> dict:
        seen = self._finished_seen()
        rows = {m.public_id: m for m in Match.objects.filter(public_id__in=seen)
                .prefetch_related("participations").select_related("replay")}  # fmt: skip
        missing, differ = [], []
        by_match: dict[str, dict] = {}
        for e in self.ended:
            if e["status"] in FINISHED:
                by_match.setdefault(e["match"], e)
        for public_id, e in by_match.items():
            match = rows.get(public_id)
            problems = []
            if match is None or match.status != Match.Status.FINISHED:
                problems.append("not finished")
            else:
                if not (match.summary or {}).get("scores"):
                    problems.append("no result")
                if not hasattr(match, "replay"):
                    problems.append("no replay")
                if any(p.result == "" for p in match.participations.all()):
                    problems.append("a seat without its result")
                scores = (e.get("result") or {}).get("scores")
                if scores is not None and scores != (match.summary or {}).get("scores"):
                    differ.append(public_id)
            if problems:
                missing.append({"match": public_id, "problems": problems})
        ratings = self._ratings()
        doubled_replays = (Replay.objects.values("match").annotate(n=Count("id"))
                           .filter(n__gt=1).count())  # fmt: skip
        finished_db = Match.objects.filter(status=Match.Status.FINISHED).count()
        modes = Counter(e["mode"] for e in by_match.values())
        gaps = [s["gap_p99_ms"] for s in self.samples[1:] if s["gap_p99_ms"] is not None]
        warmup = self._warmup_minutes()
        memory = self._memory_slopes(warmup)
        configured = self._memory_slopes(self.o.warmup_minutes)
        p = self.players_total.summary(tick_hz=30)
        s = self.spectators_total.summary(tick_hz=30)
        closes = {**p["closes"], **{f"spectator:{k}": v for k, v in s["closes"].items()}}
        errors = {**p["errors"], **{f"spectator:{k}": v for k, v in s["errors"].items()}}
        bar = Bar().p99_gap_ms
        return {
            "minutes": self.o.minutes,
            "matches_finished": finished_db,
            "matches_seen_finished": len(by_match),
            "matches_seen_finished_by_mode": dict(modes),
            "results_missing": len(missing) + ratings["missing"],
            "results_doubled": ratings["doubled"] + doubled_replays,
            "results_missing_detail": missing[:20],
            "results_differ_from_over": len(differ),
            "ratings": ratings,
            "tracebacks": None,  # filled in once the processes stopped and flushed their logs
            "memory_slope_mib_per_10min": memory["slopes"],
            "memory_warmup_minutes": warmup,
            "memory_slope_points": memory["points"],
            "memory_slope_redis_used_memory": memory["redis_used_memory"],
            # The same fit from the configured warm-up, while Redis was still filling.
            "memory_slope_from_configured_warmup": {
                "warmup_minutes": self.o.warmup_minutes, **configured,
            },
            "memory_slope_bar_mib_per_10min": 1.0,
            "memory_flat": all(v is not None and v < 1.0 for v in memory["slopes"].values()),
            "gap_p99_ms_max": max(gaps, default=None),
            "gap_bar_ms": bar,
            "gap_within_bar": bool(gaps) and max(gaps) <= bar,
            "tick_jitter_p99_ms_max": max((x["tick_jitter_p99_ms"] for x in self.samples
                                           if x["tick_jitter_p99_ms"] is not None), default=None),
            "unexpected_closes": closes,
            "unexpected_closes_total": sum(closes.values()),
            "client_errors": errors,
            "over_lost": errors.get("over_never_came", 0),
            "players": {"summary": p}, "spectators": {"summary": s},
            "lifecycle": dict(self.counts),
            "redis_keys_bounded": not self.keys_unbounded,
            "redis_keys_unbounded": self.keys_unbounded[:10],
            "retention_s": self.o.retention_s,
            "options": {"players": self.o.players, "spectators": self.o.spectators,
                        "processes": self.o.processes, "score_to": list(self.o.score_to),
                        "created_share": self.o.created_share, "drop_share": self.o.drop_share,
                        "replay_share": self.o.replay_share, "sample_s": self.o.sample_s,
                        "load_nice": self.o.nice},
            "machine": f"{os.cpu_count()} CPU, {platform.machine()}, Python "
                       f"{platform.python_version()}, {platform.platform()}",
            "samples": self.samples,
        }  # fmt: skip

    def _ratings(self) -> dict:
        """Each player's games in each title against the finished matches between humans they
        played: one more is a result applied twice, one fewer one lost."""
        humans = Count("participations", filter=Q(participations__is_bot=False))
        rated = (
            Match.objects.filter(status=Match.Status.FINISHED).annotate(h=humans).filter(h__gte=2)
        )
        expected = Counter(
            Participation.objects.filter(match__in=rated, is_bot=False)
            .values_list("player_id", "match__title")
        )  # fmt: skip
        actual = {(r.player_id, r.title): r.games for r in Rating.objects.all()}
        missing = doubled = 0
        for key in set(expected) | set(actual):
            diff = actual.get(key, 0) - expected.get(key, 0)
            doubled += max(diff, 0)
            missing += max(-diff, 0)
        return {"rated_matches": rated.count(), "player_games": sum(expected.values()),
                "missing": missing, "doubled": doubled}  # fmt: skip

    def _warmup_minutes(self) -> float:
        """The configured warm-up, or longer: Redis keeps a finished match's keys for the
        retention after its end, so what it holds grows until the longest match and then the
        retention have passed (both counted from the run's matches)."""
        lengths = (
            Match.objects.filter(status=Match.Status.FINISHED, started_at__isnull=False)
            .values_list("started_at", "ended_at")
        )  # fmt: skip
        longest = max(((end - start).total_seconds() for start, end in lengths if end), default=0)
        return round(max(self.o.warmup_minutes, (longest + self.o.retention_s) / 60), 2)

    def _memory_slopes(self, warmup_minutes: float) -> dict:
        later = [s for s in self.samples if s["minute"] >= warmup_minutes]
        slopes = {}
        for name in self.watched:
            points = [
                (s["minute"], s["rss_mib"][name]) for s in later if s["rss_mib"][name] is not None
            ]
            slopes[name] = slope_per_10_min(points)
        used = slope_per_10_min([(s["minute"], s["redis_used_memory_mib"]) for s in later])
        return {"slopes": slopes, "points": len(later), "redis_used_memory": used}


def table(results: dict) -> str:
    names = list(results["memory_slope_mib_per_10min"])
    head = ("| minute | finished | gap p99 | tick jitter p99 | players | spectators | "
            + " | ".join(f"RSS {n}" for n in names) + " | fds (all) | Redis memory | Redis keys |"
            )  # fmt: skip
    lines = [head, "|" + "---|" * (9 + len(names) - 1)]
    for s in results["samples"]:
        rss = " | ".join(f"{s['rss_mib'][n]} MiB" for n in names)
        fds = sum(v for v in s["fds"].values() if v is not None)
        lines.append(
            f"| {s['minute']} | {s['matches_finished']} | {s['gap_p99_ms']} ms"
            f" | {s['tick_jitter_p99_ms']} ms | {s['players_connected']}"
            f" | {s['spectators_connected']} | {rss} | {fds} | {s['redis_used_memory_mib']} MiB"
            f" | {s['redis_keys']} |"
        )
    return "\n".join(lines)


def chart(results: dict, path: Path, caption: str = "") -> Path:
    """RSS of each process (change since the end of the warm-up) and the p99 figures."""
    samples = results["samples"]
    warm = next((s for s in samples if s["minute"] >= results["memory_warmup_minutes"]),
                samples[0])  # fmt: skip
    memory = {}
    for name in results["memory_slope_mib_per_10min"]:
        base = warm["rss_mib"][name]
        if base is None:
            continue
        memory[name] = [(s["minute"], round(s["rss_mib"][name] - base, 2)) for s in samples
                        if s["rss_mib"][name] is not None]  # fmt: skip
    latency = {
        "update gap p99 (players)": [(s["minute"], s["gap_p99_ms"]) for s in samples
                                     if s["gap_p99_ms"] is not None],
        "tick jitter p99 (50: past the histogram's last bound)": [
            (s["minute"], s["tick_jitter_p99_ms"]) for s in samples
            if s["tick_jitter_p99_ms"] is not None],
    }  # fmt: skip
    svg = benchchart.timeseries_svg([
        {"title": "Memory per process", "ylabel": "RSS change since warm-up (MiB)",
         "series": memory, "bar": None},
        {"title": "What players see", "ylabel": "ms", "series": latency,
         "bar": results["gap_bar_ms"], "bar_label": f"bar: p99 gap ≤ {results['gap_bar_ms']:g} ms"},
    ], xlabel="minutes", caption=caption)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
    return path


def write_json(results: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def summary(results: dict) -> str:
    """The end checks, one line each, the way the issue states the targets."""

    def mark(ok: bool) -> str:
        return "ok  " if ok else "FAIL"

    slopes = results["memory_slope_mib_per_10min"]
    configured = results["memory_slope_from_configured_warmup"]
    return "\n".join([
        f"{mark(results['matches_finished'] > 0)} {results['matches_finished']} matches finished "
        f"({results['matches_seen_finished']} seen to the end by players: "
        f"{results['matches_seen_finished_by_mode']})",
        f"{mark(results['results_missing'] == 0)} results missing: {results['results_missing']}",
        f"{mark(results['results_doubled'] == 0)} results doubled: {results['results_doubled']}",
        f"{mark(results['tracebacks'] == 0)} tracebacks in the logs: {results['tracebacks']}"
        + (f" {results['tracebacks_by_log']}" if results["tracebacks"] else ""),
        f"{mark(results['over_lost'] == 0)} players whose match ended without its over: "
        f"{results['over_lost']}",
        f"{mark(results['unexpected_closes_total'] == 0)} unexpected close codes: "
        f"{results['unexpected_closes'] or 'none'}",
        f"{mark(results['memory_flat'])} memory slope after {results['memory_warmup_minutes']:g} "
        f"min (MiB / 10 min, < 1): {slopes}; Redis used_memory "
        f"{results['memory_slope_redis_used_memory']}",
        f"     from the configured {configured['warmup_minutes']:g} min: {configured['slopes']}",
        f"{mark(results['redis_keys_bounded'])} Redis keys within MATCH_RETENTION_S "
        f"({results['retention_s']:g} s)"
        + (f": {results['redis_keys_unbounded']}" if not results["redis_keys_bounded"] else ""),
        f"{mark(results['gap_within_bar'])} update gap p99, worst minute: "
        f"{results['gap_p99_ms_max']} ms (bar {results['gap_bar_ms']:g} ms); tick jitter p99 "
        f"worst minute {results['tick_jitter_p99_ms_max']} ms",
        f"     client errors: {results['client_errors'] or 'none'}; lifecycle: "
        f"{results['lifecycle']}",
        f"     warnings in the logs: {results['warnings_by_log'] or 'none'}",
    ])  # fmt: skip
