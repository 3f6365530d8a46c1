"""The step-cost bench (pure Python; the management command only prints it)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

from django.core.management import call_command
from django.test import SimpleTestCase

from matches.titles import TITLES, BenchCase
from matches.titles.zombie import bench as zombie_bench
from realtime.dev import gamebench as bench


class BenchTests(unittest.TestCase):
    def test_a_short_run_measures_every_title_at_max_players(self):
        rows = bench.run(0.05, with_cases=False)
        self.assertEqual([r["title"] for r in rows], list(TITLES))
        self.assertEqual([r["players"] for r in rows], [t.max_players for t in TITLES.values()])
        for row in rows:
            with self.subTest(row["title"]):
                self.assertEqual(row["case"], "")
                self.assertGreater(row["ticks"], 0)
                self.assertLessEqual(row["p50_us"], row["p99_us"])
                self.assertLessEqual(row["p99_us"], row["max_us"])
                self.assertLessEqual(row["cpu_p50_us"], row["cpu_p99_us"])
                self.assertAlmostEqual(row["budget_us"], 1e6 / row["tick_hz"], places=0)
                self.assertGreater(row["mean_us"], 0)
                if TITLES[row["title"]].wire_schema is None:  # v1 JSON only: no figure
                    self.assertIsNone(row["compact_bytes_per_player_s"])
                else:
                    self.assertGreater(row["compact_bytes_per_player_s"], 0)

    def test_each_title_row_is_followed_by_the_cases_its_bench_declares(self):
        rows = bench.run(0.02)
        expected = []
        for name in TITLES:
            expected += [(name, ""), *((name, c.label) for c in bench.cases(name))]
        self.assertEqual([(r["title"], r["case"]) for r in rows], expected)

    def test_zombie_siege_declares_the_held_horde_on_both_maps(self):
        cases = bench.cases("zombie")
        self.assertEqual([c.label for c in cases],
                         ["office, 200 zombies held", "warehouse, 200 zombies held"])  # fmt: skip
        self.assertTrue(all(isinstance(c, BenchCase) and c.players == 4 for c in cases))
        self.assertEqual(bench.cases("pong"), [])  # a title without bench.py: none
        row = bench.bench_title(TITLES["zombie"], 0.05, case=cases[1])
        self.assertEqual((row["case"], row["players"]), ("warehouse, 200 zombies held", 4))
        self.assertGreater(row["snapshot_bytes"], 200 * 10)  # 200 zombies in every snapshot

    def test_the_hold_keeps_the_horde_and_the_team_up(self):
        title = TITLES["zombie"]
        case = bench.cases("zombie")[0]
        state = title.initial_state(
            players=4, seed=1, settings=title.validate_settings(case.settings)
        )
        for _ in range(200):
            case.prepare(state)
            self.assertEqual(len(state["zombies"]), 200)
            for slot in range(4):
                title.apply_input(state, slot, title.bot_input(state, slot))
            title.step(state)
        self.assertFalse(state["finished"])
        self.assertTrue(any(p["kills"] for p in state["team"]))  # killed ones came back
        again = title.initial_state(players=4, seed=1, settings=state["settings"])
        zombie_bench.hold(again, 200)
        first = title.initial_state(players=4, seed=1, settings=state["settings"])
        zombie_bench.hold(first, 200)
        self.assertEqual(again, first)  # the hold is deterministic

    def test_the_table_has_a_header_and_one_line_per_title(self):
        rows = bench.run(0.01, ["pong"])
        lines = bench.format_table(rows).splitlines()
        self.assertEqual(len(lines), 3)
        self.assertIn("p99", lines[0])
        self.assertTrue(lines[2].strip().startswith("pong"))
        rows[0]["compact_bytes_per_player_s"] = None  # a title without a wire schema
        self.assertTrue(bench.format_table(rows).splitlines()[2].endswith(" -"))


class CommandTests(SimpleTestCase):
    def test_the_command_prints_the_cases_unless_told_not_to(self):
        out = io.StringIO()
        call_command("bench_games", "--seconds", "0.02", "--title", "zombie", stdout=out)
        self.assertIn("office, 200 zombies held", out.getvalue())
        self.assertIn("warehouse, 200 zombies held", out.getvalue())
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rows.json")
            call_command("bench_games", "--seconds", "0.02", "--title", "zombie", "--no-cases",
                         "--json", path, stdout=out)  # fmt: skip
            with open(path) as saved:
                rows = json.load(saved)
        self.assertNotIn("held", out.getvalue())
        self.assertEqual([(r["title"], r["case"]) for r in rows], [("zombie", "")])

    def test_the_module_runs_outside_manage_py(self):
        done = subprocess.run(
            [sys.executable, "-m", "realtime.dev.gamebench", "0.01"],
            env={**os.environ, "DEBUG": "1"}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("office, 200 zombies held", done.stdout)


if __name__ == "__main__":
    unittest.main()
