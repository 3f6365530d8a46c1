"""`make bench`: the whole stack as an operator runs it, ramped with real websocket players
until the bar breaks. Prints the capacity and writes var/bench/capacity.json, the capacity
section of docs/benchmarks.md and its chart (docs/benchmarks/capacity.svg).

``--chart-only`` redraws the chart from the table in docs/benchmarks.md and runs nothing.

``--fixed-matches N`` holds N Pong matches instead of ramping and measures ``--samples``
windows of server CPU per delivered update per process (var/bench/fixed.json): CPU time moves
far less with the machine's other load than capacity does, so cuts are measured this way.

``--with-peer`` then runs the Colyseus peer (``--peer-dir``, outside the repository) with the
same matches, step and seconds (``LOOP=fixed``) and prints its row beside ours."""

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path

import psutil
from django.conf import settings
from django.core.management import BaseCommand, CommandError

from matches import services
from matches.models import Match
from realtime import store
from realtime.dev import benchchart, benchstack
from realtime.dev.loadtest.orchestrator import (
    Bar,
    LoadTest,
    add_encoding_argument,
    add_nice_argument,
)
from realtime.engine.stats import TickStats, percentile

DOC = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
CHART = DOC.parent / "benchmarks" / "capacity.svg"
START, END = "<!-- capacity:start -->", "<!-- capacity:end -->"
# The peer to beat (issue #20): Colyseus Pong, kept outside the repository with its packages.
PEER_DIR = "/work/shared/peers/colyseus"
# Local addresses the players' sockets come from through the proxy: deploy/nginx.conf limits
# sockets per address, as it should in the field, where players have addresses of their own.
SOURCE_HOSTS = 250
# The chart's line in the section, relative to docs/benchmarks.md.
CHART_LINE = (f"![p99 update gap and server CPU per update against players, the bar drawn]"
              f"({CHART.relative_to(DOC.parent)})")  # fmt: skip


def _cpu(procs: list[psutil.Process] | None) -> float:
    """CPU seconds of the processes (several Daphnes; nginx's master) and their live children
    (nginx's workers) and reaped ones."""
    total = 0.0
    for proc in procs or ():
        try:
            family = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
        for member in family:
            try:
                t = member.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
            if member is proc:
                total += getattr(t, "children_user", 0) + getattr(t, "children_system", 0)
    return total


def _front(result: dict) -> str:
    """What the players connected to, when not one Daphne directly."""
    if not result.get("proxy"):
        return ""
    n = result["daphnes"]
    return f", through nginx to {n} Daphne{'s' if n > 1 else ''}"


def _machine() -> str:
    return (f"{os.cpu_count()} CPU, {platform.machine()}, Python {platform.python_version()}, "
            f"{platform.platform()}")  # fmt: skip


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
            default=64,
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
        add_encoding_argument(parser)
        add_nice_argument(parser, "--load-nice", default=10)
        parser.add_argument("--port", type=int, default=8077,
                            help="the first Daphne's; the others' follow it")  # fmt: skip
        parser.add_argument(
            "--daphnes", type=int, default=1,
            help="Daphne processes, behind nginx from deploy/nginx.conf when more than one",
        )  # fmt: skip
        parser.add_argument(
            "--proxy", action="store_true",
            help="the players' sockets through nginx (deploy/nginx.conf; `make nginx`) even "
            "with one Daphne; its CPU counts as the server's",
        )  # fmt: skip
        parser.add_argument("--proxy-port", type=int, default=8070)
        parser.add_argument("--no-doc", action="store_true", help="do not touch docs/")
        parser.add_argument(
            "--fixed-matches", type=int, default=0,
            help="hold this many Pong matches and measure CPU per update (no ramp, no doc)",
        )  # fmt: skip
        parser.add_argument("--samples", type=int, default=3, help="windows with --fixed-matches")
        parser.add_argument("--json", type=Path, default=None, help="where the JSON goes")
        parser.add_argument(
            "--with-peer", action="store_true",
            help="then run the Colyseus peer's run.sh (LOOP=fixed) the same way (needs node)",
        )  # fmt: skip
        parser.add_argument(
            "--peer-dir",
            type=Path,
            default=Path(PEER_DIR),
            help="the peer's folder (README, run.sh), outside the repository",
        )
        parser.add_argument(
            "--chart-only", action="store_true",
            help="redraw docs/benchmarks/capacity.svg from the table in docs/benchmarks.md",
        )  # fmt: skip

    def handle(self, *args, **o):
        if o["chart_only"]:
            self._chart(self._doc_rows(), CHART)
            return
        if o["fixed_matches"] < 0 or o["samples"] < 1 or o["step"] < 1 or o["seconds"] <= 0:
            raise CommandError("--fixed-matches ≥ 0, --samples ≥ 1, --step ≥ 1, --seconds > 0")
        if o["daphnes"] < 1:
            raise CommandError("--daphnes ≥ 1")
        o["proxy"] = o["proxy"] or o["daphnes"] > 1
        out = Path(settings.VAR_DIR) / "bench"
        out.mkdir(parents=True, exist_ok=True)
        peer_problem = self._peer_problem(o["peer_dir"]) if o["with_peer"] else None
        if peer_problem:
            self.stdout.write(f"PEER: {peer_problem}; only our stack is measured")
        proxy_port = o["proxy_port"] if o["proxy"] else None
        with benchstack.running_stack(port=o["port"], out=out, daphnes=o["daphnes"],
                                      proxy_port=proxy_port) as (procs, redis_proc):  # fmt: skip
            daphnes = [name for name in procs if name.split("-")[0] == "daphne"]
            redis_process = self._redis_process(redis_proc)
            watched = {
                "daphne": [psutil.Process(procs[name].pid) for name in daphnes],
                "tick_worker": [psutil.Process(procs["tick-worker"].pid)],
                "redis": [redis_process] if redis_process is not None else None,
            }
            if proxy_port is not None:
                watched["nginx"] = [psutil.Process(procs["nginx"].pid)]
            if o["fixed_matches"]:
                rows = self._fixed(o, watched)
            else:
                arena = self._arena(o, watched)
                rows = self._ramp(o, watched)
        peer = self._peer(o, out) if o["with_peer"] and not peer_problem else None
        if o["fixed_matches"]:
            self._report_fixed(rows, peer, o, out)
        else:
            self._report(rows, arena, o, peer)

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

    def _load(self, o, **kwargs) -> LoadTest:
        """The load, its lobby calls to the first Daphne; its sockets through the proxy, from
        many local addresses, when there is one."""
        if o["proxy"]:
            kwargs.update(ws_base=f"ws://127.0.0.1:{o['proxy_port']}", source_hosts=SOURCE_HOSTS)
        return LoadTest(base_url=f"http://127.0.0.1:{o['port']}", log=self.stdout.write,
                        nice=o["load_nice"], encoding=o["encoding"], **kwargs)  # fmt: skip

    def _arena(self, o, watched) -> dict | None:
        """One Thrust Arena with many players, before the Pong ramp, on a quiet stack."""
        if not o["arena_players"]:
            return None
        self.stdout.write(f"Thrust Arena: one match of {o['arena_players']} players")
        with self._load(o, title="arena", players_per_match=o["arena_players"], processes=1,
                        settings={"time_limit_s": 900}) as test:  # fmt: skip
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
        with self._load(o, processes=o["processes"], settings={"score_to": 21}) as test:
            while test.matches + o["step"] <= o["max_matches"]:
                test.add(o["step"])
                time.sleep(o["settle"])
                row = self._measure(test, o["seconds"], watched)
                rows.append(row)
                if not row["held"]:
                    break
        return rows

    def _fixed(self, o, watched) -> list[dict]:
        """The same load held for ``--samples`` windows: the spread between them is the noise."""
        rows = []
        with self._load(o, processes=o["processes"], settings={"score_to": 21}) as test:
            while test.matches < o["fixed_matches"]:
                test.add(min(o["step"], o["fixed_matches"] - test.matches))
            time.sleep(o["settle"])
            for _ in range(o["samples"]):
                rows.append(self._measure(test, o["seconds"], watched))
        return rows

    def _peer_problem(self, peer_dir: Path) -> str | None:
        if shutil.which("node") is None:
            return "node is not on PATH: the Colyseus peer cannot run"
        if not (peer_dir / "run.sh").is_file():
            return f"no peer at {peer_dir} (no run.sh there: give --peer-dir)"
        return None

    def _peer(self, o, out: Path) -> dict | None:
        """The peer's run.sh with our load's shape; its result (rows as ramp.js writes them)."""
        fixed = o["fixed_matches"]
        result_path = (out / "peer.json").resolve()
        result_path.unlink(missing_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ, "LOOP": "fixed", "PORT": str(port), "OUT": str(result_path),
            "START": str(fixed or o["step"]), "STEP": str(o["step"]),
            "MAX_PLAYERS": str(2 * (fixed or o["max_matches"])),
            "SETTLE": str(o["settle"]), "MEASURE_S": str(o["seconds"]),
            "PROCS": str(o["processes"]), "LOAD_NICE": str(o["load_nice"]), "LABEL": "make-bench",
        }  # fmt: skip
        self.stdout.write(f"\nPeer: {o['peer_dir'] / 'run.sh'} (LOOP=fixed, port {port})")
        log = out / "peer.log"
        with open(log, "wb") as f:
            code = subprocess.call(["bash", str(o["peer_dir"] / "run.sh")], env=env,
                                   stdout=f, stderr=subprocess.STDOUT)  # fmt: skip
        if code or not result_path.exists():
            self.stdout.write(f"PEER: run.sh failed (exit {code}); see {log}")
            return None
        return json.loads(result_path.read_text())

    def _peer_table(self, peer: dict) -> str:
        head = ("| players | matches | gap p50 | gap p99 | delivered | input p99 | tick jitter p99 "
                "| µs/update server | server CPU | load CPU | held |")  # fmt: skip
        lines = [head, "|" + "---|" * 11]
        for r in peer["rows"]:
            lines.append(
                f"| {r['players']} | {r['matches']} | {r['gap_p50_ms']} ms | {r['gap_p99_ms']} ms"
                f" | {r['delivered']:.4f} | {r['input_p99_ms']} ms | {r['tick_jitter_p99_ms']} ms"
                f" | {r['us_per_patch']} | {r['server_cpu_pct']} % | {r['load_cpu_pct']}"
                f" | {'yes' if r['held'] else 'no'} |"
            )
        return "\n".join(lines)

    def _report_fixed(self, rows: list[dict], peer: dict | None, o, out: Path) -> None:
        names = list(rows[0]["cpu_us_per_update"])
        spread = {}
        for name in names:
            values = [r["cpu_us_per_update"][name] for r in rows]
            if None in values:
                spread[name] = None
                continue
            spread[name] = {"min": min(values), "median": round(statistics.median(values), 1),
                            "max": max(values)}  # fmt: skip
        # Redis runs the same commands per update whatever the Python side does: each
        # process's cost over Redis's in the same window cancels much of the machine's drift.
        per_redis = {}
        for name in ("daphne", "tick_worker"):
            us = [r["cpu_us_per_update"] for r in rows]
            ratios = [u[name] / u["redis"] for u in us if u.get("redis") and u[name]]
            per_redis[name] = round(statistics.median(ratios), 2) if ratios else None
        result = {
            "fixed_matches": o["fixed_matches"], "seconds": o["seconds"], "settle": o["settle"],
            "samples": rows, "cpu_us_per_update": spread, "per_redis": per_redis, "peer": peer,
            "load_nice": o["load_nice"], "encoding": o["encoding"], "daphnes": o["daphnes"],
            "proxy": o["proxy"], "machine": _machine(),
        }  # fmt: skip
        path = o["json"] or out / "fixed.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write("\n" + self._table(rows))
        ranges = "  ".join(
            f"{name} {v['min']}-{v['max']} (median {v['median']})" if v else f"{name} n/a"
            for name, v in spread.items()
        )
        self.stdout.write(f"\nµs of server CPU per delivered update at {o['fixed_matches']} "
                          f"matches ({o['samples']} x {o['seconds']} s): {ranges}")  # fmt: skip
        self.stdout.write("over Redis's in the same window (the machine's drift mostly cancels): "
                          + "  ".join(f"{n} {v}" for n, v in per_redis.items()))  # fmt: skip
        if peer is not None:
            self._print_peer(peer, rows)
        self.stdout.write(f"wrote {path}")

    def _print_peer(self, peer: dict, rows: list[dict]) -> None:
        self.stdout.write("\nColyseus peer (LOOP=fixed), same load:\n\n" + self._peer_table(peer))
        totals: dict[int, list[float]] = {}
        for r in rows:
            if r["cpu_us_per_update"]["total"] is not None:
                totals.setdefault(r["players"], []).append(r["cpu_us_per_update"]["total"])
        # The fixed load's samples are one load: their median.
        ours = {players: round(statistics.median(values), 1) for players, values in totals.items()}
        for r in peer["rows"]:
            if r["players"] in ours:
                self.stdout.write(f"{r['players']} players: ours {ours[r['players']]} µs per "
                                  f"update, the peer's {r['us_per_patch']}")  # fmt: skip
        self.stdout.write(f"PEER CAPACITY: {peer['capacity_players']} players")

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
        per = row["cpu_us_per_update"]
        row["cpu_us_per_update"]["total"] = (
            round(sum(per.values()), 1) if None not in per.values() else None
        )
        row["held"] = Bar().holds(row)
        self.stdout.write(f"{row['players']:>5} players  gap p99 {row['gap_p99_ms']} ms  "
                          f"delivered {row['delivered_ratio']}  held {row['held']}  "
                          f"cpu {row['cpu_percent']}  us/update {row['cpu_us_per_update']}  "
                          f"tick jitter p99 {row['tick_jitter_p99_ms']} ms")  # fmt: skip
        return row

    def _report(self, rows: list[dict], arena: dict | None, o, peer: dict | None) -> None:
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
            "encoding": o["encoding"],
            "daphnes": o["daphnes"],
            "proxy": o["proxy"],
            "machine": _machine(),
            "peer": peer,
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
        if peer is not None:
            self._print_peer(peer, rows)
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
            f"at niceness {result['load_nice']}, taking {result['encoding']} states"
            f"{_front(result)}."
            f"\n\n{CHART_LINE}\n\n{table}\n"
            f"{END}"
        )
        text = DOC.read_text()
        if START in text and END in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
        else:
            text += "\n" + section + "\n"
        DOC.write_text(text)
        self.stdout.write(f"updated {DOC}")
