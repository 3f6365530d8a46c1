"""The siege benchmark: the cost of a tick at 4 bot players against a full horde, and the
bytes a player receives each second in the compact encoding (README.md, "Benchmark").

    python -m matches.titles.zombie.bench [--seconds 5 | --ticks 4000] [--zombies 200]
        [--json out.json]

Wall-clock and thread CPU time are both reported (a busy machine inflates the first).
Every tick: ``bot_input`` + ``apply_input`` for the four bots, then ``step``. The horde is
kept at ``--zombies`` by the benchmark (killed ones come back at a floor tile the zombie
counter picks), so the figure is the steady cost at that many zombies, not an average over
a wave's rise and fall. ``--ticks`` runs a fixed number of ticks instead of a time: the same
work each run (the first ~200 ticks, the scattered horde closing in, cost more, and a timed
run on a busy machine counts fewer ticks after them). ``CASES`` gives ``manage.py
bench_games`` the same siege (4 players, 200 zombies held, on each map) as rows of its own.
Developer tooling: no production code imports it.
"""

from __future__ import annotations

import argparse
import functools
import json
import time

from matches.titles import wire as codec
from matches.titles import wirecodec

from .. import rng
from ..base import BenchCase
from . import TITLE, wire
from .maps import MAPS

SIEGE = {"max_players": 4, "waves": 30, "horde": 200, "difficulty": 1}


@functools.cache
def _floor(map_index: int) -> tuple[int, ...]:
    return tuple(i for i, s in enumerate(MAPS[map_index].solid) if not s)


def hold(state: dict, count: int) -> None:
    """Top the horde up to ``count`` zombies (3 hp each, on floor tiles the zombie counter
    picks) and keep the team standing: the measurement outlives neither otherwise."""
    w = MAPS[state["settings"]["map"]].w
    floor = _floor(state["settings"]["map"])
    for p in state["team"]:
        p["hp"] = max(p["hp"], 10**9)
    while len(state["zombies"]) < count:
        state["zid"] += 1
        t = floor[rng.hash_u64(0xBE7C, state["zid"]) % len(floor)]
        state["zombies"].append([state["zid"], t % w + 0.5, t // w + 0.5, 3, 0])


CASES = [
    BenchCase(f"{MAPS[m].name}, 200 zombies held", 4, {**SIEGE, "map": m},
              functools.partial(hold, count=200))
    for m in range(len(MAPS))
]  # fmt: skip


def run(*, seconds: float, zombies: int, players: int = 4, map_index: int = 0,
        ticks: int | None = None) -> dict:  # fmt: skip
    state = TITLE.initial_state(players=players, seed=1, settings={**SIEGE, "map": map_index})
    schema = codec.Schema(wire.SCHEMA)
    encoder = wirecodec.Encoder(schema, keyframe_every=10**9)
    samples, cpu, frames, texts = [], [], [], []
    clock, thread = time.perf_counter, time.thread_time
    end = clock() + seconds
    while len(samples) < ticks if ticks else clock() < end:
        hold(state, zombies)
        t0, c0 = clock(), thread()
        for slot in range(players):
            inp = TITLE.bot_input(state, slot)
            if inp is not None:
                TITLE.apply_input(state, slot, inp)
        TITLE.step(state)
        samples.append(clock() - t0)
        cpu.append(thread() - c0)
        snap = TITLE.snapshot(state)
        frames.append(len(encoder.encode(snap)[0]))
        texts.append(len(json.dumps(snap, separators=(",", ":"))))
    samples.sort()
    cpu.sort()
    hz = TITLE.tick_hz
    deltas = frames[1:] or frames

    def pct(q: float, of: list = samples) -> float:
        return round(of[min(len(of) - 1, round(q * (len(of) - 1)))] * 1e6, 1)

    return {
        "map": MAPS[map_index].name, "players": players, "zombies": zombies, "ticks": len(samples),
        "mean_us": round(sum(samples) / len(samples) * 1e6, 1), "p50_us": pct(0.5),
        "p99_us": pct(0.99), "max_us": round(samples[-1] * 1e6, 1),
        "cpu_mean_us": round(sum(cpu) / len(cpu) * 1e6, 1), "cpu_p50_us": pct(0.5, cpu),
        "cpu_p99_us": pct(0.99, cpu),
        "keyframe_bytes": frames[0], "delta_bytes_mean": round(sum(deltas) / len(deltas), 1),
        "compact_bytes_per_player_s": round(sum(deltas) / len(deltas) * hz),
        "json_bytes_per_player_s": round(sum(texts) / len(texts) * hz),
    }  # fmt: skip


COLUMNS = ("map", "players", "zombies", "ticks", "mean_us", "p50_us", "p99_us", "max_us",
           "cpu_mean_us", "cpu_p50_us", "cpu_p99_us", "keyframe_bytes", "delta_bytes_mean",
           "compact_bytes_per_player_s", "json_bytes_per_player_s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--ticks", type=int, help="run this many ticks per row instead")
    parser.add_argument("--zombies", type=int, action="append")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if args.ticks is not None and args.ticks < 1:
        parser.error("--ticks must be at least 1")
    rows = [run(seconds=args.seconds, zombies=n, map_index=m, ticks=args.ticks)
            for m in range(len(MAPS)) for n in args.zombies or [200]]  # fmt: skip
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS]
    print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r[c]).rjust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
