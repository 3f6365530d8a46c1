"""The step-cost bench (pure Python; the management command only prints it)."""

from __future__ import annotations

import unittest

from matches.titles import TITLES
from realtime.dev import gamebench as bench


class BenchTests(unittest.TestCase):
    def test_a_short_run_measures_every_title_at_max_players(self):
        rows = bench.run(0.05)
        self.assertEqual([r["title"] for r in rows], list(TITLES))
        self.assertEqual([r["players"] for r in rows], [t.max_players for t in TITLES.values()])
        for row in rows:
            with self.subTest(row["title"]):
                self.assertGreater(row["ticks"], 0)
                self.assertLessEqual(row["p50_us"], row["p99_us"])
                self.assertLessEqual(row["p99_us"], row["max_us"])
                self.assertAlmostEqual(row["budget_us"], 1e6 / row["tick_hz"], places=0)
                self.assertGreater(row["mean_us"], 0)

    def test_the_table_has_a_header_and_one_line_per_title(self):
        rows = bench.run(0.01, ["pong"])
        lines = bench.format_table(rows).splitlines()
        self.assertEqual(len(lines), 3)
        self.assertIn("p99", lines[0])
        self.assertTrue(lines[2].strip().startswith("pong"))


if __name__ == "__main__":
    unittest.main()
