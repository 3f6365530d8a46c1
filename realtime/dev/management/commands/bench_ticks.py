"""How many concurrent matches one tick worker carries: start a real tick worker (the same
command an operator runs), give it N bot-vs-bot Pong matches, measure tick start jitter,
overruns and CPU over a window after a warm-up, and print a table."""

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
from django.conf import settings
from django.core.management import BaseCommand, CommandError

from config.celery import app
from matches.titles import get_title
from realtime import groups, store
from realtime.dev import devredis
from realtime.engine import dispatch
from realtime.engine.stats import TickStats, percentile

# Far above any real match id, so a bench never touches real matches in a shared Redis.
BASE_ID = 900_000_000


class Command(BaseCommand):
    help = "Benchmark one tick worker: N concurrent 30 Hz Pong matches (bots in every slot)."

    def add_arguments(self, parser):
        parser.add_argument("--matches", type=int, default=150)
        parser.add_argument("--seconds", type=float, default=10.0)
        parser.add_argument("--warmup", type=float, default=2.0)
        parser.add_argument("--json", dest="json_path", default=None)
        parser.add_argument("--compact", action="store_true",
                            help="as if a compact socket watched every match: the runners "
                            "encode compact frames too (docs/protocol.md)")  # fmt: skip

    def handle(self, *args, matches: int, seconds: float, warmup: float, json_path,
               compact: bool = False, **opts):  # fmt: skip
        if matches < 1 or seconds <= 0:
            raise CommandError("--matches must be ≥ 1 and --seconds > 0")
        redis_proc = devredis.ensure(fresh=True)
        ids = [BASE_ID + i for i in range(matches)]
        for match_id in ids:
            store.drop_match(match_id)
        worker = self._start_worker(concurrency=matches + 10)
        try:
            self._wait_ready(worker)
            title = get_title("pong")
            game_settings = title.validate_settings({"score_to": 21})
            for i, match_id in enumerate(ids):
                meta = store.Meta(match_id=match_id, public_id=f"bench{i}", title="pong",
                                  tick_hz=title.tick_hz, players=2, bots=(0, 1))  # fmt: skip
                state = title.initial_state(players=2, seed=i, settings=game_settings)
                snapshot = groups.first_snapshot(title=title, state=state, players=2)
                store.init_match(meta=meta, state=state, snapshot=snapshot)
                if compact:  # what a compact socket's join does (realtime.gateway.relay)
                    store.client().set(store.key(match_id, "keyframe"), 1,
                                       px=store.KEYFRAME_ASK_TTL_MS)  # fmt: skip
                app.send_task(dispatch.RUN_MATCH, args=[match_id], queue="ticks")
            time.sleep(warmup)
            proc = psutil.Process(worker.pid)
            before = self._stats(ids)
            cpu_before = proc.cpu_times()
            t_start = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - t_start
            cpu_after = proc.cpu_times()
            after = self._stats(ids)
        finally:
            for match_id in ids:
                store.request_stop(match_id, "bench over")
            time.sleep(0.3)
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
            for match_id in ids:
                store.drop_match(match_id)
            devredis.stop(redis_proc)
        self._report(matches, elapsed, before, after, cpu_before, cpu_after, json_path)

    def _start_worker(self, *, concurrency: int) -> subprocess.Popen:
        log = Path(settings.VAR_DIR) / "bench" / "tick-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "ticks",
                "-P", "gevent", "-c", str(concurrency), "-n", "bench-ticks@%h",
                "--prefetch-multiplier", "1", "-l", "WARNING"]  # fmt: skip
        self.stdout.write(f"starting: {' '.join(argv[1:])}")
        with open(log, "wb") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def _wait_ready(self, worker: subprocess.Popen) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                raise CommandError("the tick worker exited; see var/bench/tick-worker.log")
            replies = app.control.ping(timeout=0.5)
            if any(name.startswith("bench-ticks@") for reply in replies for name in reply):
                return
        raise CommandError("the tick worker did not come up within 30 s")

    def _stats(self, ids: list[int]) -> dict[int, TickStats]:
        pipe = store.client().pipeline()
        for match_id in ids:
            pipe.hget(store.key(match_id, "stats"), "json")
        return {mid: TickStats.from_json(raw) for mid, raw in zip(ids, pipe.execute(), strict=True)}

    def _report(self, matches, elapsed, before, after, cpu_before, cpu_after, json_path):
        total = TickStats()
        for match_id, stats in after.items():
            total.merge(stats.since(before[match_id]))
        hz = get_title("pong").tick_hz
        expected = round(matches * hz * elapsed)
        cpu_s = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        row = {
            "matches": matches,
            "tick_hz": hz,
            "seconds": round(elapsed, 2),
            "ticks_expected": expected,
            "ticks_run": total.ticks,
            "skipped_ticks": total.skipped,
            "start_jitter_p50_ms": percentile(total.jitter_hist, 0.5),
            "start_jitter_p99_ms": percentile(total.jitter_hist, 0.99),
            "tick_duration_p99_ms": percentile(total.duration_hist, 0.99),
            "overrun_rate": round(total.overruns / total.ticks, 5) if total.ticks else 1.0,
            "worker_cpu_percent": round(100 * cpu_s / elapsed, 1),
            "cpu_us_per_tick": round(1e6 * cpu_s / total.ticks, 1) if total.ticks else None,
        }
        width = max(len(k) for k in row)
        self.stdout.write("")
        for k, v in row.items():
            self.stdout.write(f"  {k:<{width}}  {v}")
        if json_path:
            Path(json_path).parent.mkdir(parents=True, exist_ok=True)
            Path(json_path).write_text(json.dumps(row, indent=2) + "\n")
            self.stdout.write(f"wrote {json_path}")
