"""`make bench`: the whole stack as an operator runs it, ramped with real websocket players
until the bar breaks. Prints the capacity and writes var/bench/capacity.json, the capacity
section of docs/benchmarks.md and its chart (docs/benchmarks/capacity.svg).

``--chart-only`` redraws the chart from the table in docs/benchmarks.md and runs nothing."""

import json
import os
import platform
import time
from pathlib import Path

import psutil
from django.conf import settings
from django.core.management import BaseCommand

from matches import services
from matches.models import Match
from realtime import store
from realtime.dev import benchchart, benchstack
from realtime.dev.loadtest.orchestrator import Bar, LoadTest, add_nice_argument
from realtime.engine.stats import TickStats, percentile

DOC = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
CHART = DOC.parent / "benchmarks" / "capacity.svg"
START, END = "<!-- capacity:start -->", "<!-- capacity:end -->"
# The chart's line in the section, relative to docs/benchmarks.md.
CHART_LINE = (f"![p99 update gap and server CPU per update against players, the bar drawn]"
              f"({CHART.relative_to(DOC.parent)})")  # fmt: skip


def _cpu(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system + getattr(t, "children_user", 0) + getattr(t, "children_system", 0)


def _running_stats() -> TickStats:
    total = TickStats()
    ids = list(Match.objects.filter(status=Match.Status.RUNNING).values_list("pk", flat=True))
    pipe = store.client().pipeline()
    for match_id in ids:
        pipe.hget(store.key(match_id, "stats"), "json")
    for raw in pipe.execute():
        total.merge(TickStats.from_json(raw))
    return total


class Command(BaseCommand):
    help = "Capacity benchmark of the whole stack (make bench)."

    def add_arguments(self, parser):
        parser.add_argument("--step", type=int, default=25, help="matches added per step")
        parser.add_argument(
            "--arena-players",
            type=int,
            default=50,
            help="players in the one Thrust Arena measured first (0: skip)",
        )
        parser.add_argument("--max-matches", type=int, default=300)
        parser.add_argument(
            "--seconds",
            type=float,
            default=20.0,
            help="measured per step: at 300 players one 100 ms stall of the "
            "machine is 1 %% of 10 s of gaps",
        )
        parser.add_argument(
            "--settle",
            type=float,
            default=10.0,
            help="seconds between adding matches and measuring (sign-ins, "
            "match starts and first connections settle)",
        )
        parser.add_argument("--processes", type=int, default=2, help="load processes")
        add_nice_argument(parser, "--load-nice", default=10)
        parser.add_argument("--port", type=int, default=8077)
        parser.add_argument("--no-doc", action="store_true", help="do not touch docs/")
        parser.add_argument(
            "--chart-only", action="store_true",
            help="redraw docs/benchmarks/capacity.svg from the table in docs/benchmarks.md",
        )  # fmt: skip

    def handle(self, *args, **o):
        if o["chart_only"]:
            self._chart(self._doc_rows(), CHART)
            return
        out = Path(settings.VAR_DIR) / "bench"
        out.mkdir(parents=True, exist_ok=True)
        with benchstack.running_stack(port=o["port"], out=out) as (procs, redis_proc):
            watched = {
                "daphne": psutil.Process(procs["daphne"].pid),
                "tick_worker": psutil.Process(procs["tick-worker"].pid),
                "redis": self._redis_process(redis_proc),
            }
            arena = self._arena(o, watched)
            rows = self._ramp(o, watched)
        self._report(rows, arena, o)

    def _redis_process(self, redis_proc) -> psutil.Process | None:
        if redis_proc is not None:
            return psutil.Process(redis_proc.pid)
        port = str(settings.REDIS_URL.rsplit(":", 1)[-1].split("/")[0])
        for proc in psutil.process_iter(["name", "cmdline"]):
            if "redis-server" in (proc.info["name"] or "") and port in " ".join(
                proc.info["cmdline"] or []
            ):
                return proc
        return None  # a remote Redis: its CPU is not ours to see

    def _arena(self, o, watched) -> dict | None:
        """One Thrust Arena with many players, before the Pong ramp, on a quiet stack."""
        if not o["arena_players"]:
            return None
        self.stdout.write(f"Thrust Arena: one match of {o['arena_players']} players")
        with LoadTest(base_url=f"http://127.0.0.1:{o['port']}", title="arena",
                      players_per_match=o["arena_players"], processes=1,
                      settings={"time_limit_s": 900}, log=self.stdout.write,
                      nice=o["load_nice"]) as test:  # fmt: skip
            test.add(1)
            time.sleep(o["settle"])
            row = self._measure(test, o["seconds"], watched)
        for match_id in Match.objects.filter(status=Match.Status.RUNNING).values_list(
            "pk", flat=True
        ):
            services.match_abort(match_id=match_id, reason="arena measured")
        time.sleep(2)  # the runner stops at its next tick
        return row

    def _ramp(self, o, watched) -> list[dict]:
        rows = []
        with LoadTest(base_url=f"http://127.0.0.1:{o['port']}", processes=o["processes"],
                      settings={"score_to": 21}, log=self.stdout.write,
                      nice=o["load_nice"]) as test:  # fmt: skip
            while test.matches + o["step"] <= o["max_matches"]:
                test.add(o["step"])
                time.sleep(o["settle"])
                row = self._measure(test, o["seconds"], watched)
                rows.append(row)
                if not row["held"]:
                    break
        return rows

    def _measure(self, test: LoadTest, seconds: float, watched: dict) -> dict:
        cpu0 = {name: _cpu(p) for name, p in watched.items()}
        ticks0 = _running_stats()
        row = test.measure(seconds)
        cpu1 = {name: _cpu(p) for name, p in watched.items()}
        ticks1 = _running_stats()
        row["tick_jitter_p99_ms"] = percentile(ticks1.since(ticks0).jitter_hist, 0.99)
        row["cpu_percent"] = {
            name: round(100 * (cpu1[name] - cpu0[name]) / row["seconds"], 1) for name in watched
        }
        row["cpu_us_per_update"] = {
            name: round(1e6 * (cpu1[name] - cpu0[name]) / row["states"], 1)
            if row["states"] and watched[name] is not None else None
            for name in watched
        }  # fmt: skip
        row["held"] = Bar().holds(row)
        self.stdout.write(f"{row['players']:>5} players  gap p99 {row['gap_p99_ms']} ms  "
                          f"delivered {row['delivered_ratio']}  held {row['held']}  "
                          f"cpu {row['cpu_percent']}  us/update {row['cpu_us_per_update']}  "
                          f"tick jitter p99 {row['tick_jitter_p99_ms']} ms")  # fmt: skip
        return row

    def _report(self, rows: list[dict], arena: dict | None, o) -> None:
        held = [r for r in rows if r["held"]]
        best = held[-1] if held else None
        result = {
            "capacity_players": best["players"] if best else 0,
            "capacity_matches": best["matches"] if best else 0,
            "p99_gap_ms": best["gap_p99_ms"] if best else None,
            "delivered_ratio": best["delivered_ratio"] if best else None,
            "cpu_us_per_update": best["cpu_us_per_update"] if best else {},
            "tick_jitter_p99_ms": best["tick_jitter_p99_ms"] if best else None,
            "input_latency_p99_ms": best["input_latency_p99_ms"] if best else None,
            "steps": rows,
            "arena": arena,
            "load_nice": o["load_nice"],
            "machine": f"{os.cpu_count()} CPU, {platform.machine()}, Python "
            f"{platform.python_version()}, {platform.platform()}",
        }
        path = Path(settings.VAR_DIR) / "bench" / "capacity.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        table = self._table(rows)
        if arena is not None:
            table += "\n\nOne Thrust Arena match:\n\n" + self._table([arena])
        self.stdout.write("\n" + table)
        self.stdout.write(
            f"\nCAPACITY: {result['capacity_players']} players in {result['capacity_matches']} "
            f"Pong matches at 30 Hz (p99 gap ≤ 50 ms, ≥ 99 % delivered); wrote {path}"
        )
        if arena is not None:
            self.stdout.write(
                f"THRUST ARENA: {arena['players']} players in one match "
                f"{'held' if arena['held'] else 'NOT held'} (p99 gap {arena['gap_p99_ms']} ms, "
                f"delivered {arena['delivered_ratio']})"
            )
        if any(max(r["load_cpu_percent"]) > 90 for r in rows + ([arena] if arena else [])):
            self.stdout.write("WARNING: a load process saturated a core; use more --processes")
        self._chart(rows, Path(settings.VAR_DIR) / "bench" / "capacity.svg")
        if not o["no_doc"]:
            self._write_doc(result, table)
            self._chart(rows, CHART)

    def _doc_rows(self) -> list[dict]:
        text = DOC.read_text()
        if START not in text:
            raise RuntimeError(f"no capacity section in {DOC}: run make bench")
        return benchchart.rows_from_table(text[text.index(START) : text.index(END)])

    def _chart(self, rows: list[dict], path: Path) -> None:
        if not rows:
            return
        benchchart.write_chart(rows, path, bar_ms=Bar().p99_gap_ms,
                               caption="Pong matches at 30 Hz, make bench")  # fmt: skip
        self.stdout.write(f"wrote {path}")

    def _table(self, rows: list[dict]) -> str:
        head = (
            "| players | matches | gap p50 | gap p99 | delivered | input p99 | tick jitter p99 "
            "| µs/update daphne | µs/update tick worker | µs/update redis | load CPU | held |"
        )
        lines = [head, "|" + "---|" * 12]
        for r in rows:
            us = r["cpu_us_per_update"]
            lines.append(
                f"| {r['players']} | {r['matches']} | {r['gap_p50_ms']} ms | {r['gap_p99_ms']} ms"
                f" | {r['delivered_ratio']:.4f} | {r['input_latency_p99_ms']} ms"
                f" | {r['tick_jitter_p99_ms']} ms | {us['daphne']} | {us['tick_worker']}"
                f" | {us['redis']} | {r['load_cpu_percent']} | {'yes' if r['held'] else 'no'} |"
            )
        return "\n".join(lines)

    def _write_doc(self, result: dict, table: str) -> None:
        arena = result["arena"]
        arena_line = (
            f"; **one Thrust Arena of {arena['players']} players "
            f"{'held' if arena['held'] else 'not held'}**"
            if arena
            else ""
        )
        section = (
            f"{START}\nLatest `make bench` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
            f" {result['machine']}): **capacity {result['capacity_players']} players in "
            f"{result['capacity_matches']} Pong matches** at 30 Hz{arena_line}; load processes "
            f"at niceness {result['load_nice']}.\n\n{CHART_LINE}\n\n{table}\n"
            f"{END}"
        )
        text = DOC.read_text()
        if START in text and END in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
        else:
            text += "\n" + section + "\n"
        DOC.write_text(text)
        self.stdout.write(f"updated {DOC}")
