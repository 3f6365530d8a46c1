"""Measure the cost of one tick of each title at its max players, every slot a bot.

A tick here is what the engine does per tick for a bot-filled match:
``bot_input`` + ``apply_input`` for every slot, then ``step``.  The match is
restarted (next seed) whenever it finishes.  Serializing costs are reported
apart: ``snapshot()`` + ``json.dumps`` of it, and ``json.dumps`` of the state;
and the compact bytes a player receives a second (every state encoded as the
tick runner does, keyframes every STATE_KEYFRAME_EVERY_S included).

Besides that default row a title may ask for more in its package's ``bench.py``:
``CASES``, a list of ``matches.titles.BenchCase`` (players, settings, a hook run
before each measured tick), so a title's rows need no edit here.

    python manage.py bench_games --seconds 2
    DEBUG=1 python -m realtime.dev.gamebench [seconds_per_title]

The titles are those of the ARCADE_TITLES setting (the registry reads it).
"""

from __future__ import annotations

import json
import sys
import time

from django.conf import settings

from matches.titles import TITLES, BenchCase, Title, title_part, wirecodec

SERIALIZE_EVERY = 10  # measure serialization on every n-th tick only


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def cases(name: str) -> list[BenchCase]:
    """The extra rows title ``name`` declares (``CASES`` of its package's bench.py)."""
    module = title_part(name, "bench")
    found = list(getattr(module, "CASES", ()) if module is not None else ())
    for case in found:
        if not isinstance(case, BenchCase):
            raise TypeError(f"{name}: bench.CASES holds {case!r}, not a BenchCase")
    return found


def bench_title(
    title: Title, seconds: float, players: int | None = None, case: BenchCase | None = None
) -> dict:
    players = case.players if case is not None else players or title.max_players
    extra = (case.settings or {}) if case is not None else {}
    match_settings = title.validate_settings({"max_players": players, **extra})
    prepare = case.prepare if case is not None else None
    seed = 0
    state = title.initial_state(players=players, seed=seed, settings=match_settings)
    from realtime import protocol  # imports the models: after django.setup() (see __main__)

    schema = protocol.compact_schema(title)
    encoder = None
    if schema is not None:
        encoder = wirecodec.Encoder(
            schema, keyframe_every=title.ticks(settings.STATE_KEYFRAME_EVERY_S)
        )
    compact_bytes = 0
    clock, thread = time.perf_counter, time.thread_time
    samples: list[float] = []
    cpu: list[float] = []  # thread CPU time: what the tick costs, without the machine's waits
    ser_snapshot: list[float] = []
    ser_state: list[float] = []
    snapshot_bytes = state_bytes = 0
    matches = 1
    slots = range(players)
    bot_input, apply_input, step = title.bot_input, title.apply_input, title.step
    end = clock() + seconds
    while True:
        if prepare is not None:
            prepare(state)
        c0 = thread()
        t0 = clock()
        for slot in slots:
            inp = bot_input(state, slot)
            if inp is not None:
                apply_input(state, slot, inp)
        step(state)
        t1 = clock()
        cpu.append(thread() - c0)
        samples.append(t1 - t0)
        if encoder is not None:
            snap = title.snapshot(state)
            message = protocol.state_message(tick=state["tick"], snapshot=snap)
            compact_bytes += len(encoder.encode(message)[0])
        if len(samples) % SERIALIZE_EVERY == 1:  # the first tick too: a short run has sizes
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
            state = title.initial_state(players=players, seed=seed, settings=match_settings)
            if encoder is not None:
                encoder.request_keyframe()  # a new match: a new runner, a new chain
        if t1 >= end:
            break
    samples.sort()
    cpu.sort()
    budget_us = 1e6 / title.tick_hz
    mean_us = sum(samples) / len(samples) * 1e6
    return {
        "title": title.name,
        "label": title.label,
        "case": case.label if case is not None else "",
        "players": players,
        "tick_hz": title.tick_hz,
        "ticks": len(samples),
        "matches": matches,
        "mean_us": round(mean_us, 1),
        "p50_us": round(_percentile(samples, 0.50) * 1e6, 1),
        "p99_us": round(_percentile(samples, 0.99) * 1e6, 1),
        "max_us": round(samples[-1] * 1e6, 1),
        "cpu_p50_us": round(_percentile(cpu, 0.50) * 1e6, 1),
        "cpu_p99_us": round(_percentile(cpu, 0.99) * 1e6, 1),
        "budget_us": round(budget_us, 1),
        "budget_pct": round(mean_us / budget_us * 100, 2),
        "snapshot_json_us": round(sum(ser_snapshot) / max(1, len(ser_snapshot)) * 1e6, 1),
        "state_json_us": round(sum(ser_state) / max(1, len(ser_state)) * 1e6, 1),
        "snapshot_bytes": snapshot_bytes,
        "state_bytes": state_bytes,
        "compact_bytes_per_player_s": (
            round(compact_bytes / len(samples) * title.tick_hz) if encoder is not None else None
        ),
    }


def run(
    seconds_per_title: float = 2.0, titles: list[str] | None = None, with_cases: bool = True
) -> list[dict]:
    """One row per title (see ``bench_title``), measured for ``seconds_per_title`` each,
    each followed by the rows of its ``cases`` (unless ``with_cases`` is false)."""
    names = titles or list(TITLES)
    rows = []
    for name in names:
        rows.append(bench_title(TITLES[name], seconds_per_title))
        for case in cases(name) if with_cases else ():
            rows.append(bench_title(TITLES[name], seconds_per_title, case=case))
    return rows


COLUMNS = (
    ("title", "title", "{}"),
    ("case", "case", "{}"),
    ("players", "players", "{}"),
    ("tick_hz", "Hz", "{}"),
    ("ticks", "ticks", "{}"),
    ("mean_us", "mean µs", "{:.1f}"),
    ("p50_us", "p50 µs", "{:.1f}"),
    ("p99_us", "p99 µs", "{:.1f}"),
    ("cpu_p50_us", "CPU p50 µs", "{:.1f}"),
    ("cpu_p99_us", "CPU p99 µs", "{:.1f}"),
    ("budget_pct", "% of tick", "{:.2f}"),
    ("snapshot_json_us", "snapshot+json µs", "{:.1f}"),
    ("state_json_us", "state json µs", "{:.1f}"),
    ("snapshot_bytes", "snapshot B", "{}"),
    ("compact_bytes_per_player_s", "compact B/s/player", "{}"),
)


def format_table(rows: list[dict], columns: tuple = COLUMNS) -> str:
    """A plain-text table of ``run()`` rows (or of others, given their columns)."""
    header = [label for _, label, _ in columns]
    body = [
        ["-" if row[key] is None else fmt.format(row[key]) for key, _, fmt in columns]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(lines)


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")  # as manage.py does
    django.setup()
    print(format_table(run(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)))
