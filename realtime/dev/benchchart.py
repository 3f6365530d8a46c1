"""The capacity chart of ``make bench``: p99 update gap and server CPU per update against
players, the bar drawn, as a self-contained SVG (no plotting library, no fonts or scripts
fetched: GitHub and any browser show it as an image).

``bench_capacity`` draws it from its rows after a run; ``bench_capacity --chart-only`` draws
it from the table already in docs/benchmarks.md (``rows_from_table``), so the chart and the
table cannot disagree.
"""

import math
import re
from html import escape
from pathlib import Path

# The three server processes the bench watches, as the table's columns name them.
PROCESSES = (("daphne", "Daphne", "#1f77b4"), ("tick_worker", "tick worker", "#9467bd"),
             ("redis", "Redis", "#d62728"))  # fmt: skip
HELD, NOT_HELD, TOTAL = "#2ca02c", "#d62728", "#333"

WIDTH, HEIGHT = 820, 320
PANEL_W, PANEL_H = 300, 210  # plot area of each of the two panels
TOP, LEFT = 50, 70
GAP_BETWEEN = 110


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step giving about ``ticks`` ticks over ``span``."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _ticks(top: float, step: float) -> list[float]:
    # By index, not by adding the step: 0.1 + 0.2 drifts and a tick goes missing.
    return [round(i * step, 9) for i in range(int(top / step + 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:g}"


class _Panel:
    """One plot area: linear scales from data to pixels, its axes, ticks and labels."""

    def __init__(self, x0: float, xmax: float, ymax: float, *, xlabel: str, ylabel: str,
                 title: str) -> None:  # fmt: skip
        self.x0, self.xmax, self.ymax = x0, xmax, ymax
        self.xlabel, self.ylabel, self.title = xlabel, ylabel, title

    def x(self, value: float) -> float:
        return round(self.x0 + PANEL_W * value / self.xmax, 1)

    def y(self, value: float) -> float:
        return round(TOP + PANEL_H * (1 - value / self.ymax), 1)

    def frame(self, xstep: float, ystep: float) -> list[str]:
        bottom, right = TOP + PANEL_H, self.x0 + PANEL_W
        out = [f'<text class="title" x="{self.x0}" y="{TOP - 18}">{escape(self.title)}</text>']
        for value in _ticks(self.ymax, ystep):
            y = self.y(value)
            out.append(f'<line class="grid" x1="{self.x0}" y1="{y}" x2="{right}" y2="{y}"/>'
                       f'<text class="tick" x="{self.x0 - 6}" y="{y + 4}" '
                       f'text-anchor="end">{_fmt(value)}</text>')  # fmt: skip
        for value in _ticks(self.xmax, xstep):
            x = self.x(value)
            out.append(f'<line class="axis" x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}"/>'
                       f'<text class="tick" x="{x}" y="{bottom + 17}" '
                       f'text-anchor="middle">{_fmt(value)}</text>')  # fmt: skip
        out.append(f'<line class="axis" x1="{self.x0}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
        out.append(f'<line class="axis" x1="{self.x0}" y1="{TOP}" x2="{self.x0}" y2="{bottom}"/>')
        out.append(f'<text class="label xlabel" x="{self.x0 + PANEL_W / 2}" y="{bottom + 36}" '
                   f'text-anchor="middle">{escape(self.xlabel)}</text>')  # fmt: skip
        middle = TOP + PANEL_H / 2
        out.append(f'<text class="label ylabel" x="{self.x0 - 46}" y="{middle}" '
                   f'text-anchor="middle" transform="rotate(-90 {self.x0 - 46} {middle})">'
                   f"{escape(self.ylabel)}</text>")  # fmt: skip
        return out


def _total_cpu(row: dict) -> float | None:
    parts = [row["cpu_us_per_update"].get(name) for name, _, _ in PROCESSES]
    return round(sum(parts), 1) if all(p is not None for p in parts) else None


def chart_svg(rows: list[dict], *, bar_ms: float = 50.0, caption: str = "") -> str:
    """The chart of the ramp's ``rows`` (``players``, ``gap_p99_ms``, ``held`` and
    ``cpu_us_per_update`` per process, as bench_capacity measures them)."""
    rows = sorted(rows, key=lambda r: r["players"])
    if not rows:
        raise ValueError("no rows to draw")
    xstep = _nice_step(max(r["players"] for r in rows))
    xmax = xstep * math.ceil(max(r["players"] for r in rows) / xstep)
    gap_top = max([bar_ms * 1.2, *(r["gap_p99_ms"] * 1.1 for r in rows)])
    gap_step = _nice_step(gap_top)
    gap = _Panel(LEFT, xmax, gap_step * math.ceil(gap_top / gap_step), xlabel="players",
                 ylabel="p99 update gap (ms)", title="What a player sees")  # fmt: skip
    cpu_values = [v for r in rows for v in (*r["cpu_us_per_update"].values(), _total_cpu(r))
                  if v is not None]  # fmt: skip
    cpu_top = max(cpu_values, default=1) * 1.1
    cpu_step = _nice_step(cpu_top)
    cpu = _Panel(LEFT + PANEL_W + GAP_BETWEEN, xmax, cpu_step * math.ceil(cpu_top / cpu_step),
                 xlabel="players", ylabel="server CPU per update (µs)",
                 title="What it costs the server")  # fmt: skip

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="sans-serif" font-size="12">',
        "<title>Capacity: p99 update gap and server CPU per update against players</title>",
        f"<desc>{escape(caption)}</desc>" if caption else "",
        "<style>.grid{stroke:#e6e6e6}.axis{stroke:#555}.title{font-weight:bold;font-size:13px}"
        ".tick{fill:#555;font-size:11px}.bar{stroke:#d62728;stroke-dasharray:6 4;stroke-width:1.5}"
        ".series{fill:none;stroke-width:2}.part{fill:none;stroke-width:1.2}</style>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    out += gap.frame(xstep, gap_step)
    y = gap.y(bar_ms)
    out.append(f'<line class="bar" x1="{gap.x0}" y1="{y}" x2="{gap.x0 + PANEL_W}" y2="{y}"/>')
    out.append(f'<text class="bar-label" x="{gap.x0 + 4}" y="{y - 5}" fill="#d62728">'
               f"bar: p99 ≤ {_fmt(bar_ms)} ms</text>")  # fmt: skip
    points = " ".join(f"{gap.x(r['players'])},{gap.y(r['gap_p99_ms'])}" for r in rows)
    out.append(f'<polyline class="series" stroke="#888" points="{points}"/>')
    for r in rows:
        colour, word = (HELD, "held") if r["held"] else (NOT_HELD, "not held")
        players, ms = r["players"], r["gap_p99_ms"]
        out.append(f'<circle class="point {word.replace(" ", "-")}" cx="{gap.x(players)}" '
                   f'cy="{gap.y(ms)}" r="4" fill="{colour}"><title>{players} players: p99 gap '
                   f"{_fmt(ms)} ms, {word}</title></circle>")  # fmt: skip
    legend_y = TOP + PANEL_H + 58
    out.append(f'<circle cx="{gap.x0 + 6}" cy="{legend_y - 4}" r="4" fill="{HELD}"/>'
               f'<text x="{gap.x0 + 14}" y="{legend_y}">held</text>'
               f'<circle cx="{gap.x0 + 66}" cy="{legend_y - 4}" r="4" fill="{NOT_HELD}"/>'
               f'<text x="{gap.x0 + 74}" y="{legend_y}">not held</text>')  # fmt: skip

    out += cpu.frame(xstep, cpu_step)
    series = [*PROCESSES, ("total", "all three", TOTAL)]
    x = cpu.x0
    for name, label, colour in series:
        values = [(r["players"], _total_cpu(r) if name == "total"
                   else r["cpu_us_per_update"].get(name)) for r in rows]  # fmt: skip
        values = [(p, v) for p, v in values if v is not None]
        if values:
            kind = "series" if name == "total" else "part"
            points = " ".join(f"{cpu.x(p)},{cpu.y(v)}" for p, v in values)
            out.append(f'<polyline class="{kind} cpu-{name}" stroke="{colour}" points="{points}"/>')
            out += [f'<circle cx="{cpu.x(p)}" cy="{cpu.y(v)}" r="2.5" fill="{colour}">'
                    f"<title>{p} players: {label} {_fmt(v)} µs per update</title></circle>"
                    for p, v in values]  # fmt: skip
        out.append(f'<line x1="{x}" y1="{legend_y - 4}" x2="{x + 14}" y2="{legend_y - 4}" '
                   f'stroke="{colour}" stroke-width="2"/><text x="{x + 18}" y="{legend_y}">'
                   f"{escape(label)}</text>")  # fmt: skip
        x += 32 + 7 * len(label)  # about the label's width at 12 px
    out.append("</svg>")
    return "\n".join(line for line in out if line) + "\n"


def write_chart(rows: list[dict], path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(chart_svg(rows, **kwargs))
    return path


_MS = re.compile(r"^(-?[\d.]+) ms$")


def rows_from_table(markdown: str) -> list[dict]:
    """The rows of the first capacity table in ``markdown`` (bench_capacity's ``_table``),
    back in the shape the bench measured them in, as far as the chart needs."""
    rows, header = [], None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            if header is not None:
                break  # the end of the first table
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            if cells[0] == "players":
                header = cells
            continue
        if set(cells[0]) <= set("-"):
            continue
        row = dict(zip(header, cells, strict=True))

        def ms(text: str) -> float:
            return float(_MS.match(text).group(1))

        def us(text: str) -> float | None:
            return None if text == "None" else float(text)

        rows.append({
            "players": int(row["players"]), "matches": int(row["matches"]),
            "gap_p99_ms": ms(row["gap p99"]), "held": row["held"] == "yes",
            "cpu_us_per_update": {name: us(row[f"µs/update {label.lower()}"])
                                  for name, label, _ in PROCESSES},
        })  # fmt: skip
    return rows


# Colours of the soak chart's series, in order (one per process, then the latency figures).
SERIES_COLOURS = ("#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#d62728", "#8c564b", "#e377c2")


class _SpanPanel(_Panel):
    """A panel whose y axis runs from ``ymin`` (which may be negative) to ``ymax``."""

    def __init__(self, *args, ymin: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ymin = ymin

    def y(self, value: float) -> float:
        return round(TOP + PANEL_H * (1 - (value - self.ymin) / (self.ymax - self.ymin)), 1)


def timeseries_svg(panels: list[dict], *, xlabel: str, caption: str = "") -> str:
    """Side-by-side panels of lines over time, as a self-contained SVG. Each panel is
    ``{"title", "ylabel", "series": {label: [(x, y), ...]}, "bar": y or None,
    "bar_label"}``; the x axis (minutes, say) is shared."""
    xs = [x for p in panels for points in p["series"].values() for x, _ in points]
    if not xs:
        raise ValueError("no points to draw")
    xstep = _nice_step(max(max(xs), 1e-9))
    xmax = xstep * math.ceil(max(xs) / xstep) or xstep
    width = LEFT + len(panels) * (PANEL_W + GAP_BETWEEN) - GAP_BETWEEN + 30
    legend_rows = max(len(p["series"]) for p in panels)
    height = TOP + PANEL_H + 50 + 16 * legend_rows
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="12">',
        f"<title>{escape(' / '.join(p['title'] for p in panels))}</title>",
        f"<desc>{escape(caption)}</desc>" if caption else "",
        "<style>.grid{stroke:#e6e6e6}.axis{stroke:#555}.title{font-weight:bold;font-size:13px}"
        ".tick{fill:#555;font-size:11px}.bar{stroke:#d62728;stroke-dasharray:6 4;stroke-width:1.5}"
        ".series{fill:none;stroke-width:1.8}</style>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for index, p in enumerate(panels):
        ys = [y for points in p["series"].values() for _, y in points]
        top = max([*ys, (p.get("bar") or 0) * 1.2, 0.0])
        lo = min([*ys, 0.0])
        step = _nice_step(max(top - lo, 1e-9) * 1.1)
        ymin, ymax = step * math.floor(lo / step), step * math.ceil(top * 1.05 / step) or step
        panel = _SpanPanel(LEFT + index * (PANEL_W + GAP_BETWEEN), xmax, ymax, ymin=ymin,
                           xlabel=xlabel, ylabel=p["ylabel"], title=p["title"])  # fmt: skip
        out += _span_frame(panel, xstep, step)
        if p.get("bar") is not None:
            y = panel.y(p["bar"])
            right = panel.x0 + PANEL_W
            out.append(f'<line class="bar" x1="{panel.x0}" y1="{y}" x2="{right}" y2="{y}"/>'
                       f'<text x="{panel.x0 + 4}" y="{y - 5}" fill="#d62728">'
                       f"{escape(p.get('bar_label', ''))}</text>")  # fmt: skip
        legend_y = TOP + PANEL_H + 58
        for i, (label, points) in enumerate(p["series"].items()):
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            if points:
                line = " ".join(f"{panel.x(x)},{panel.y(y)}" for x, y in points)
                out.append(f'<polyline class="series" stroke="{colour}" points="{line}">'
                           f"<title>{escape(label)}</title></polyline>")  # fmt: skip
            y = legend_y + 16 * i
            out.append(f'<line x1="{panel.x0}" y1="{y - 4}" x2="{panel.x0 + 14}" y2="{y - 4}" '
                       f'stroke="{colour}" stroke-width="2"/>'
                       f'<text x="{panel.x0 + 18}" y="{y}">{escape(label)}</text>')  # fmt: skip
    out.append("</svg>")
    return "\n".join(line for line in out if line) + "\n"


def _span_frame(panel: _SpanPanel, xstep: float, ystep: float) -> list[str]:
    """Axes, grid and labels of a panel whose y axis starts at ``panel.ymin``."""
    bottom, right = TOP + PANEL_H, panel.x0 + PANEL_W
    out = [f'<text class="title" x="{panel.x0}" y="{TOP - 18}">{escape(panel.title)}</text>']
    count = round((panel.ymax - panel.ymin) / ystep)
    for i in range(count + 1):
        value = round(panel.ymin + i * ystep, 9)
        y = panel.y(value)
        out.append(f'<line class="grid" x1="{panel.x0}" y1="{y}" x2="{right}" y2="{y}"/>'
                   f'<text class="tick" x="{panel.x0 - 6}" y="{y + 4}" '
                   f'text-anchor="end">{_fmt(value)}</text>')  # fmt: skip
    for value in _ticks(panel.xmax, xstep):
        x = panel.x(value)
        out.append(f'<line class="axis" x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}"/>'
                   f'<text class="tick" x="{x}" y="{bottom + 17}" '
                   f'text-anchor="middle">{_fmt(value)}</text>')  # fmt: skip
    out.append(f'<line class="axis" x1="{panel.x0}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
    out.append(f'<line class="axis" x1="{panel.x0}" y1="{TOP}" x2="{panel.x0}" y2="{bottom}"/>')
    out.append(f'<text class="label xlabel" x="{panel.x0 + PANEL_W / 2}" y="{bottom + 36}" '
               f'text-anchor="middle">{escape(panel.xlabel)}</text>')  # fmt: skip
    middle = TOP + PANEL_H / 2
    out.append(f'<text class="label ylabel" x="{panel.x0 - 46}" y="{middle}" '
               f'text-anchor="middle" transform="rotate(-90 {panel.x0 - 46} {middle})">'
               f"{escape(panel.ylabel)}</text>")  # fmt: skip
    return out
