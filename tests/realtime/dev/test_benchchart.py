"""The capacity chart of make bench (realtime/dev/benchchart.py) on fixed rows, and the
committed chart against the table it was drawn from."""

import xml.etree.ElementTree as ET

from django.test import SimpleTestCase

from realtime.dev import benchchart
from realtime.dev.management.commands import bench_capacity

SVG = "{http://www.w3.org/2000/svg}"


def row(players: int, gap: float, held: bool, us: tuple) -> dict:
    """A ramp step as bench_capacity measures it (what its table prints, too)."""
    return {
        "players": players, "matches": players // 2, "gap_p50_ms": 33.5, "gap_p99_ms": gap,
        "delivered_ratio": 1.0, "input_latency_p99_ms": 36.0, "tick_jitter_p99_ms": 1.2,
        "cpu_us_per_update": dict(zip(("daphne", "tick_worker", "redis"), us, strict=True)),
        "load_cpu_percent": [4.0, 4.1], "held": held,
    }  # fmt: skip


ROWS = [row(100, 35.5, True, (55.9, 44.0, 25.5)), row(300, 41.5, True, (42.5, 32.4, 19.1)),
        row(500, 61.0, False, (36.0, 26.4, 16.4))]  # fmt: skip


class ChartTests(SimpleTestCase):
    def setUp(self):
        self.svg = benchchart.chart_svg(ROWS, bar_ms=50)
        self.root = ET.fromstring(self.svg)
        self.texts = [t.text or "" for t in self.root.iter(f"{SVG}text")]

    def test_it_is_one_self_contained_svg(self):
        self.assertEqual(self.root.tag, f"{SVG}svg")
        self.assertNotIn("<script", self.svg)
        self.assertNotIn("href", self.svg)  # nothing fetched: no fonts, images or links

    def test_the_bar_is_a_line_at_50_ms_with_its_label(self):
        gap = self.panel_axis_y(0)
        bars = [e for e in self.root.iter(f"{SVG}line") if e.get("class") == "bar"]
        self.assertEqual(len(bars), 1)
        self.assertEqual(float(bars[0].get("y1")), gap(50))
        self.assertIn("bar: p99 ≤ 50 ms", self.texts)

    def test_one_point_per_step_above_the_bar_only_when_it_did_not_hold(self):
        points = [e for e in self.root.iter(f"{SVG}circle") if "point" in (e.get("class") or "")]
        self.assertEqual([p.get("class") for p in points],
                         ["point held", "point held", "point not-held"])  # fmt: skip
        gap = self.panel_axis_y(0)
        self.assertEqual([float(p.get("cy")) for p in points], [gap(35.5), gap(41.5), gap(61.0)])
        self.assertEqual(points[2].find(f"{SVG}title").text,
                         "500 players: p99 gap 61 ms, not held")  # fmt: skip

    def test_axes_are_labelled_and_cpu_is_drawn_per_process_and_in_total(self):
        for label in ("players", "p99 update gap (ms)", "server CPU per update (µs)"):
            self.assertIn(label, self.texts)
        lines = {e.get("class") for e in self.root.iter(f"{SVG}polyline")}
        self.assertLessEqual({"part cpu-daphne", "part cpu-tick_worker", "part cpu-redis",
                              "series cpu-total"}, lines)  # fmt: skip
        totals = [e.find(f"{SVG}title").text for e in self.root.iter(f"{SVG}circle")
                  if "all three" in (e.findtext(f"{SVG}title") or "")]  # fmt: skip
        self.assertEqual(totals[0], "100 players: all three 125.4 µs per update")

    def test_no_rows_is_an_error_not_an_empty_chart(self):
        with self.assertRaises(ValueError):
            benchchart.chart_svg([])

    def panel_axis_y(self, panel: int):
        """Pixel y of a value on the gap panel, from its tick labels (0 and the top one)."""
        ticks = [(float(t.text), float(t.get("y")) - 4) for t in self.root.iter(f"{SVG}text")
                 if t.get("class") == "tick" and t.get("text-anchor") == "end"]  # fmt: skip
        first = ticks[: next(i for i, (v, _) in enumerate(ticks[1:], 1) if v == 0)]
        (v0, y0), (v1, y1) = first[0], first[-1]
        return lambda value: round(y0 + (y1 - y0) * (value - v0) / (v1 - v0), 1)


class TableTests(SimpleTestCase):
    def test_the_table_the_bench_prints_reads_back_as_its_rows(self):
        table = bench_capacity.Command()._table(ROWS)
        back = benchchart.rows_from_table(f"intro\n\n{table}\n\nOne Thrust Arena:\n\n{table}")
        self.assertEqual(len(back), len(ROWS))
        for got, want in zip(back, ROWS, strict=True):
            for field in ("players", "matches", "gap_p99_ms", "held", "cpu_us_per_update"):
                self.assertEqual(got[field], want[field])

    def test_the_committed_chart_is_the_one_drawn_from_the_committed_table(self):
        text = bench_capacity.DOC.read_text()
        section = text[text.index(bench_capacity.START) : text.index(bench_capacity.END)]
        self.assertIn(bench_capacity.CHART_LINE, section)
        rows = bench_capacity.Command()._doc_rows()
        # The Pong ramp (at least its first held step and the one that did not hold), not
        # only the single arena row.
        self.assertGreaterEqual(len(rows), 2)
        expected = benchchart.chart_svg(
            rows, bar_ms=50, caption="Pong matches at 30 Hz, make bench"
        )
        self.assertEqual(bench_capacity.CHART.read_text(), expected,
                         "redraw it: manage.py bench_capacity --chart-only")  # fmt: skip
