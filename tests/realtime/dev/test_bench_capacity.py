"""bench_capacity's fixed-load report and its peer: the figures it prints and writes from
measured rows, and what it says when the peer cannot run."""

import io
import json
import os
import tempfile
from pathlib import Path
from unittest import mock

from django.test import SimpleTestCase

from realtime.dev.management.commands import bench_capacity


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
                 "load_nice": 10, "encoding": "v1", "json": path}  # fmt: skip
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
