"""bench_capacity's fixed-load report and its peer: the figures it prints and writes from
measured rows, and what it says when the peer cannot run."""

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from django.test import SimpleTestCase

from realtime.dev.management.commands import bench_capacity
from tests.support import stack


def sample(players: int, us: tuple) -> dict:
    names = ("daphne", "tick_worker", "redis")
    per = dict(zip(names, us, strict=True))
    return {
        "players": players, "matches": players // 2, "gap_p50_ms": 33.5, "gap_p99_ms": 41.0,
        "delivered_ratio": 1.0, "input_latency_p99_ms": 36.0, "tick_jitter_p99_ms": 1.2,
        "cpu_us_per_update": {**per, "total": round(sum(us), 1)},
        "load_cpu_percent": [4.0, 4.1], "held": True,
    }  # fmt: skip


# One step of the peer's result as its ramp.js writes it (the fields the bench reads).
PEER = {
    "capacity_players": 300,
    "rows": [{"players": 300, "matches": 150, "gap_p50_ms": 33.3, "gap_p99_ms": 38.0,
              "delivered": 0.9991, "input_p99_ms": 35.0, "tick_jitter_p99_ms": 0.9,
              "us_per_patch": 21.5, "server_cpu_pct": 19.4, "load_cpu_pct": [9.0, 9.2],
              "held": True}],
}  # fmt: skip


class FixedReportTests(SimpleTestCase):
    def report(self, rows, peer=None):
        out = io.StringIO()
        command = bench_capacity.Command(stdout=out)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fixed.json"
            o = {"fixed_matches": 150, "samples": len(rows), "seconds": 20.0, "settle": 10.0,
                 "load_nice": 10, "encoding": "v1", "daphnes": 1, "proxy": False,
                 "json": path}  # fmt: skip
            command._report_fixed(rows, peer, o, Path(tmp))
            return out.getvalue(), json.loads(path.read_text())

    def test_each_process_gets_the_range_and_median_of_its_samples(self):
        rows = [sample(300, (26.2, 21.6, 11.4)), sample(300, (25.5, 22.1, 11.2)),
                sample(300, (27.4, 23.9, 12.4))]  # fmt: skip
        text, result = self.report(rows)
        self.assertEqual(result["cpu_us_per_update"]["daphne"],
                         {"min": 25.5, "median": 26.2, "max": 27.4})  # fmt: skip
        self.assertEqual(result["cpu_us_per_update"]["total"],
                         {"min": 58.8, "median": 59.2, "max": 63.7})  # fmt: skip
        self.assertEqual(len(result["samples"]), 3)
        self.assertIn("daphne 25.5-27.4 (median 26.2)", text)
        # 26.2 / 11.4, 25.5 / 11.2, 27.4 / 12.4: 2.30, 2.28, 2.21
        self.assertEqual(result["per_redis"]["daphne"], 2.28)
        self.assertIn("daphne 2.28", text)
        self.assertIsNone(result["peer"])

    def test_a_process_without_figures_says_so(self):
        row = sample(300, (26.2, 21.6, 11.4))
        row["cpu_us_per_update"].update(redis=None, total=None)
        text, result = self.report([row])
        self.assertIsNone(result["cpu_us_per_update"]["redis"])
        self.assertIsNone(result["per_redis"]["tick_worker"])
        self.assertIn("redis n/a", text)

    def test_the_encoding_the_players_took_is_kept_with_the_figures(self):
        _, written = self.report([sample(300, (26.2, 21.6, 11.4))])
        self.assertEqual(written["encoding"], "v1")

    def test_the_peer_row_is_printed_beside_ours_and_kept(self):
        rows = [sample(300, (26.2, 21.6, 11.4)), sample(300, (30.0, 25.0, 12.0)),
                sample(300, (20.0, 20.0, 10.0))]  # fmt: skip
        text, result = self.report(rows, PEER)
        self.assertIn("| 300 | 150 | 33.3 ms | 38.0 ms | 0.9991 |", text)
        self.assertIn("300 players: ours 59.2 µs per update, the peer's 21.5", text)
        self.assertEqual(result["peer"], PEER)


class PeerProblemTests(SimpleTestCase):
    def test_no_node_on_path_is_said_plainly(self):
        with tempfile.TemporaryDirectory() as empty, mock.patch.dict(os.environ, {"PATH": empty}):
            problem = bench_capacity.Command()._peer_problem(Path(bench_capacity.PEER_DIR))
        self.assertIn("node is not on PATH", problem)

    def test_a_folder_without_run_sh_is_named(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake_node = Path(tmp) / "node"
            fake_node.write_text("#!/bin/sh\n")
            fake_node.chmod(0o755)
            with mock.patch.dict(os.environ, {"PATH": tmp}):
                problem = bench_capacity.Command()._peer_problem(Path(tmp))
        self.assertIn(f"no peer at {tmp}", problem)


class ProxiedBenchTests(SimpleTestCase):
    """`make bench --daphnes 2`, for real: its own Redis and database, two Daphnes behind
    nginx from deploy/nginx.conf, players from many local addresses."""

    def test_two_daphnes_behind_nginx_share_the_players_and_nginx_counts_as_server_cpu(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
            env.update(VAR_DIR=tmp, DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3", DEBUG="1",
                       PRIVATE_REDIS_PORT=str(stack.free_port()), PYTHONUNBUFFERED="1")  # fmt: skip
            path = Path(tmp) / "fixed.json"
            done = subprocess.run(
                [sys.executable, "manage.py", "bench_capacity", "--fixed-matches", "4",
                 "--samples", "1", "--seconds", "3", "--settle", "3", "--processes", "1",
                 "--daphnes", "2", "--port", str(stack.free_port()),
                 "--proxy-port", str(stack.free_port()), "--json", str(path)],
                cwd=stack.ROOT, env=env, capture_output=True, text=True, timeout=240,
            )  # fmt: skip
            self.assertEqual(done.returncode, 0, done.stdout[-3000:] + done.stderr[-3000:])
            result = json.loads(path.read_text())
            sockets = [line for line in (Path(tmp) / "bench" / "nginx.log").read_text().splitlines()
                       if '"GET /ws/matches/' in line]  # fmt: skip
        self.assertEqual((result["daphnes"], result["proxy"]), (2, True))
        (row,) = result["samples"]
        self.assertEqual(row["clients_connected"], 8)
        self.assertGreater(row["states"], 8 * 3 * 30 * 0.8)
        self.assertEqual((row["errors"], row["closes"]), ({}, {}))
        for name in ("daphne", "tick_worker", "redis", "nginx"):
            self.assertGreater(row["cpu_us_per_update"][name], 0, name)
        # Each socket went through nginx with a 101, from an address of its own, and the two
        # Daphnes both took some (nginx's round robin).
        self.assertEqual(len(sockets), 8)
        self.assertTrue(all(" 101 " in line for line in sockets), sockets)
        self.assertEqual(len({line.split()[0] for line in sockets}), 8)
        self.assertEqual(len({line.rsplit("upstream=", 1)[1].split()[0] for line in sockets}), 2)
