"""Bytes per state on the wire, v1 JSON against compact frames (matches/titles/wire.py).

Each row plays one title with bots in every slot for ``seconds`` of match time (restarting
on the next seed when a match ends) and encodes every state both ways, as the tick runner
does: keyframes every STATE_KEYFRAME_EVERY_S, deltas between. Every player's socket gets
every state, so bytes per player per second is bytes per state times the tick rate
(payload only; a websocket frame adds 2-4 bytes of header).

    python manage.py bench_wire [--seconds 60] [--json var/bench/wire.json]
"""

from __future__ import annotations

import time

from django.conf import settings

from matches.titles import TITLES, wire
from realtime import protocol

ROWS = (("pong", 2), ("snake", 8), ("arena", 50), ("arena", 64))


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def bench_row(name: str, players: int, seconds: float) -> dict:
    title = TITLES[name]
    schema = protocol.compact_schema(title)
    encoder = wire.Encoder(schema, keyframe_every=title.ticks(settings.STATE_KEYFRAME_EVERY_S))
    match_settings = title.validate_settings({"max_players": players})
    seed = 0
    state = title.initial_state(players=players, seed=seed, settings=match_settings)
    v1_bytes = key_bytes = delta_bytes = keys = deltas = 0
    v1_us: list[float] = []
    compact_us: list[float] = []
    clock = time.perf_counter
    for _ in range(title.ticks(seconds)):
        for slot in range(players):
            inp = title.bot_input(state, slot)
            if inp is not None:
                title.apply_input(state, slot, inp)
        title.step(state)
        message = protocol.state_message(tick=state["tick"], snapshot=title.snapshot(state))
        t0 = clock()
        text = protocol.dumps(message)
        t1 = clock()
        frame, key = encoder.encode(message)
        t2 = clock()
        v1_us.append((t1 - t0) * 1e6)
        compact_us.append((t2 - t1) * 1e6)
        v1_bytes += len(text)
        if key:
            keys, key_bytes = keys + 1, key_bytes + len(frame)
        else:
            deltas, delta_bytes = deltas + 1, delta_bytes + len(frame)
        if title.is_finished(state):
            seed += 1
            state = title.initial_state(players=players, seed=seed, settings=match_settings)
            encoder.request_keyframe()  # a new match: a new runner, a new chain
    states = keys + deltas
    v1_per_state = v1_bytes / states
    compact_per_state = (key_bytes + delta_bytes) / states
    return {
        "title": name, "players": players, "tick_hz": title.tick_hz, "states": states,
        "v1_bytes_per_state": round(v1_per_state, 1),
        "compact_bytes_per_state": round(compact_per_state, 1),
        "keyframe_bytes": round(key_bytes / max(keys, 1), 1),
        "delta_bytes": round(delta_bytes / max(deltas, 1), 1),
        "keyframe_share": round(key_bytes / max(key_bytes + delta_bytes, 1), 3),
        "v1_bytes_per_player_s": round(v1_per_state * title.tick_hz),
        "compact_bytes_per_player_s": round(compact_per_state * title.tick_hz),
        "ratio": round(v1_per_state / compact_per_state, 1),
        "v1_encode_us_p50": round(_percentile(v1_us, 0.5), 1),
        "compact_encode_us_p50": round(_percentile(compact_us, 0.5), 1),
        "compact_encode_us_p99": round(_percentile(compact_us, 0.99), 1),
    }  # fmt: skip


def run(seconds: float, rows: tuple = ROWS) -> list[dict]:
    return [bench_row(name, players, seconds) for name, players in rows]


COLUMNS = (
    ("title", "title", "{}"),
    ("players", "players", "{}"),
    ("tick_hz", "Hz", "{}"),
    ("v1_bytes_per_state", "v1 B/state", "{:.0f}"),
    ("compact_bytes_per_state", "compact B/state", "{:.1f}"),
    ("delta_bytes", "delta B", "{:.1f}"),
    ("keyframe_bytes", "keyframe B", "{:.0f}"),
    ("keyframe_share", "keyframe share", "{:.1%}"),
    ("v1_bytes_per_player_s", "v1 B/s/player", "{:,}"),
    ("compact_bytes_per_player_s", "compact B/s/player", "{:,}"),
    ("ratio", "v1/compact", "{:.1f}x"),
    ("v1_encode_us_p50", "v1 encode µs p50", "{:.1f}"),
    ("compact_encode_us_p50", "compact µs p50", "{:.1f}"),
    ("compact_encode_us_p99", "compact µs p99", "{:.1f}"),
)
