"""Measure the cost of one tick of each title at its max players, every slot a bot.

A tick here is what the engine does per tick for a bot-filled match:
``bot_input`` + ``apply_input`` for every slot, then ``step``.  The match is
restarted (next seed) whenever it finishes.  Serializing costs are reported
apart: ``snapshot()`` + ``json.dumps`` of it, and ``json.dumps`` of the state.

    python manage.py bench_games --seconds 2
    DEBUG=1 python -m realtime.dev.gamebench [seconds_per_title]

The titles are those of the ARCADE_TITLES setting (the registry reads it).
"""

from __future__ import annotations

import json
import sys
import time

from matches.titles import TITLES, Title

SERIALIZE_EVERY = 10  # measure serialization on every n-th tick only


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def bench_title(title: Title, seconds: float, players: int | None = None) -> dict:
    players = players or title.max_players
    settings = title.validate_settings({"max_players": players})
    seed = 0
    state = title.initial_state(players=players, seed=seed, settings=settings)
    clock = time.perf_counter
    samples: list[float] = []
    ser_snapshot: list[float] = []
    ser_state: list[float] = []
    snapshot_bytes = state_bytes = 0
    matches = 1
    slots = range(players)
    bot_input, apply_input, step = title.bot_input, title.apply_input, title.step
    end = clock() + seconds
    while True:
        t0 = clock()
        for slot in slots:
            inp = bot_input(state, slot)
            if inp is not None:
                apply_input(state, slot, inp)
        step(state)
        t1 = clock()
        samples.append(t1 - t0)
        if len(samples) % SERIALIZE_EVERY == 0:
            t0 = clock()
            snap = json.dumps(title.snapshot(state), separators=(",", ":"))
            t1 = clock()
            blob = json.dumps(state, separators=(",", ":"))
            t2 = clock()
            ser_snapshot.append(t1 - t0)
            ser_state.append(t2 - t1)
            snapshot_bytes = max(snapshot_bytes, len(snap))
            state_bytes = max(state_bytes, len(blob))
        if title.is_finished(state):
            seed += 1
            matches += 1
            state = title.initial_state(players=players, seed=seed, settings=settings)
        if t1 >= end:
            break
    samples.sort()
    budget_us = 1e6 / title.tick_hz
    mean_us = sum(samples) / len(samples) * 1e6
    return {
        "title": title.name,
        "label": title.label,
        "players": players,
        "tick_hz": title.tick_hz,
        "ticks": len(samples),
        "matches": matches,
        "mean_us": round(mean_us, 1),
        "p50_us": round(_percentile(samples, 0.50) * 1e6, 1),
        "p99_us": round(_percentile(samples, 0.99) * 1e6, 1),
        "max_us": round(samples[-1] * 1e6, 1),
        "budget_us": round(budget_us, 1),
        "budget_pct": round(mean_us / budget_us * 100, 2),
        "snapshot_json_us": round(sum(ser_snapshot) / max(1, len(ser_snapshot)) * 1e6, 1),
        "state_json_us": round(sum(ser_state) / max(1, len(ser_state)) * 1e6, 1),
        "snapshot_bytes": snapshot_bytes,
        "state_bytes": state_bytes,
    }


def run(seconds_per_title: float = 2.0, titles: list[str] | None = None) -> list[dict]:
    """One row per title (see ``bench_title``), measured for ``seconds_per_title`` each."""
    names = titles or list(TITLES)
    return [bench_title(TITLES[name], seconds_per_title) for name in names]


COLUMNS = (
    ("title", "title", "{}"),
    ("players", "players", "{}"),
    ("tick_hz", "Hz", "{}"),
    ("ticks", "ticks", "{}"),
    ("mean_us", "mean µs", "{:.1f}"),
    ("p50_us", "p50 µs", "{:.1f}"),
    ("p99_us", "p99 µs", "{:.1f}"),
    ("budget_pct", "% of tick", "{:.2f}"),
    ("snapshot_json_us", "snapshot+json µs", "{:.1f}"),
    ("state_json_us", "state json µs", "{:.1f}"),
    ("snapshot_bytes", "snapshot B", "{}"),
)


def format_table(rows: list[dict], columns: tuple = COLUMNS) -> str:
    """A plain-text table of ``run()`` rows (or of others, given their columns)."""
    header = [label for _, label, _ in columns]
    body = [[fmt.format(row[key]) for key, _, fmt in columns] for row in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(lines)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # as manage.py does
    print(format_table(run(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)))
