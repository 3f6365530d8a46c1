"""The compact state codec (matches/titles/wire.py, wirecodec.py) and each title's wire schema."""

from __future__ import annotations

import contextlib
import json
import unittest

from hypothesis import given
from hypothesis import strategies as st

from matches.titles import wire, wirecodec
from matches.titles.arena import TITLE as ARENA
from matches.titles.pong import TITLE as PONG
from matches.titles.snake import TITLE as SNAKE
from realtime import protocol
from tests.matches.titles.helpers import PROPERTY, seeds


def played(title, *, players: int, seed: int, ticks: int, paused_every: int = 0) -> list[dict]:
    """The v1 state messages of a bot-played match, as a client parses them."""
    state = title.initial_state(players=players, seed=seed, settings={"max_players": players})
    out = []
    for n in range(ticks):
        for slot in range(players):
            inp = title.bot_input(state, slot)
            if inp is not None:
                title.apply_input(state, slot, inp)
        title.step(state)
        paused = [n % players] if paused_every and n % paused_every == 0 else None
        text = protocol.state(tick=state["tick"], snapshot=title.snapshot(state), paused=paused)
        out.append(json.loads(text))
        if title.is_finished(state):
            break
    return out


def encoded(schema: wire.Schema, messages: list[dict], every: int) -> list[tuple[bytes, bool]]:
    encoder = wirecodec.Encoder(schema, keyframe_every=every)
    return [encoder.encode(m) for m in messages]


def title_round_trips(the_title, *, players: tuple[int, ...], ticks: int) -> type:
    """The round-trip tests of one title (a class per title: Hypothesis wants its own
    functions in each)."""

    class TitleRoundTrips(unittest.TestCase):
        title = the_title

        def setUp(self):
            self.schema = protocol.compact_schema(self.title)

        @PROPERTY
        @given(seed=seeds, data=st.data())
        def test_every_frame_decodes_to_the_v1_message(self, seed, data):
            count = data.draw(st.sampled_from(players))
            every = data.draw(st.integers(min_value=1, max_value=40))
            messages = played(self.title, players=count, seed=seed, ticks=ticks,
                              paused_every=data.draw(st.sampled_from([0, 7])))  # fmt: skip
            decoder = wirecodec.Decoder(self.schema)
            for message, (frame, _) in zip(messages, encoded(self.schema, messages, every),
                                           strict=True):  # fmt: skip
                self.assertEqual(decoder.decode(frame), message)

        @PROPERTY
        @given(seed=seeds, data=st.data())
        def test_deltas_chained_from_any_keyframe_equal_the_full_encodes(self, seed, data):
            count = data.draw(st.sampled_from(players))
            messages = played(self.title, players=count, seed=seed, ticks=ticks)
            every = data.draw(st.integers(min_value=2, max_value=30))
            frames = encoded(self.schema, messages, every)
            keys = [i for i, (_, key) in enumerate(frames) if key]
            start = data.draw(st.sampled_from(keys))
            decoder = wirecodec.Decoder(self.schema)
            for i in range(start, len(frames)):
                alone = wirecodec.Decoder(self.schema)
                full = wirecodec.Encoder(self.schema, keyframe_every=1).encode(messages[i])[0]
                self.assertEqual(decoder.decode(frames[i][0]), alone.decode(full))

        def test_a_delta_after_a_gap_asks_for_a_keyframe(self):
            messages = played(self.title, players=players[-1], seed=5, ticks=6)
            frames = encoded(self.schema, messages, 100)
            decoder = wirecodec.Decoder(self.schema)
            decoder.decode(frames[0][0])
            with self.assertRaisesRegex(wire.WireError, "resync"):
                decoder.decode(frames[2][0])
            with self.assertRaisesRegex(wire.WireError, "resync"):
                wirecodec.Decoder(self.schema).decode(frames[1][0])

        def test_deltas_are_a_tenth_of_the_v1_text_or_less(self):
            messages = played(self.title, players=players[-1], seed=9, ticks=90)
            frames = encoded(self.schema, messages, 10**6)[1:]
            v1 = sum(len(protocol.dumps(m)) for m in messages[1:])
            self.assertLess(sum(len(f) for f, _ in frames) * 10, v1)

    return TitleRoundTrips


PongWireTest = title_round_trips(PONG, players=(2,), ticks=120)
SnakeWireTest = title_round_trips(SNAKE, players=(2, 5, 8), ticks=200)
ArenaWireTest = title_round_trips(ARENA, players=(2, 9, 24), ticks=90)


# --- the generic codec on arbitrary values of a schema ----------------------------------------

SMALL = st.integers(min_value=-3, max_value=3)  # small ranges: rows repeat, so copies happen
CELLS = wire.rows(wire.tup(wire.INT, wire.INT), seq=True)
SHOTS = wire.rows(wire.tup(wire.num(10), wire.INT, wire.INT), seq=True, key=(1, 2),
                  move=((0, 1),), div=3)  # fmt: skip
ANY_SCHEMA = wire.struct(
    ("tick", wire.TICK), ("size", wire.CONST), ("n", wire.INT), ("f", wire.num(10)),
    ("a", wire.num(100)), ("ok", wire.BOOL), ("win", wire.OPT_INT),
    ("kind", wire.enum("up", "down", 7)), ("extra", wire.JSON),
    ("grid", wire.rows(wire.struct(("body", CELLS), ("score", wire.INT)))),
    ("cells", CELLS), ("shots", SHOTS), ("maybe", wire.rows(wire.INT), 1),
)  # fmt: skip

# Rows whose elements hold optional fields, blobs and rows of their own (read row by row).
WALK_SCHEMA = wire.struct(
    ("rows", wire.rows(wire.struct(
        ("k", wire.CONST), ("v", wire.OPT_INT), ("tag", wire.JSON),
        ("more", wire.rows(wire.INT), 1),
        ("pair", wire.tup(wire.enum("a", "b"), wire.num(10)), 1),
    ))),
    ("after", wire.rows(wire.INT)), ("last", wire.JSON), ("flag", wire.BOOL, 1),
)  # fmt: skip


def _tenths(lo: int, hi: int):
    return st.integers(min_value=lo, max_value=hi).map(lambda q: q / 10)


@st.composite
def any_message(draw, tick: int) -> dict:
    cell = st.lists(SMALL, min_size=2, max_size=2)
    message = {
        "tick": tick, "size": draw(st.sampled_from([10, 20])),
        "n": draw(st.integers(min_value=-(2**40), max_value=2**40)),
        "f": draw(_tenths(-50000, 50000)), "a": draw(st.integers(-314, 314).map(lambda q: q / 100)),
        "ok": draw(st.booleans()), "win": draw(st.none() | SMALL),
        "kind": draw(st.sampled_from(["up", "down", 7])),
        "extra": draw(st.lists(st.dictionaries(st.sampled_from("ab"), SMALL), max_size=2)),
        "grid": draw(st.lists(st.fixed_dictionaries(
            {"body": st.lists(cell, max_size=6), "score": SMALL}), max_size=3)),
        "cells": draw(st.lists(cell, max_size=8)),
        "shots": draw(st.lists(st.tuples(_tenths(-30, 30), SMALL, SMALL).map(list), max_size=8)),
    }  # fmt: skip
    if draw(st.booleans()):
        message["maybe"] = draw(st.lists(SMALL, max_size=3))
    return message


@st.composite
def histories(draw) -> list[dict]:
    """Messages where each is often a small change of the one before (rows shifted, added,
    dropped), so that copy runs, skips and literals all occur."""
    first = draw(any_message(0))
    out = [first]
    for tick in range(1, draw(st.integers(min_value=1, max_value=8))):
        if draw(st.booleans()):
            out.append(draw(any_message(tick)))
            continue
        prev = json.loads(json.dumps(out[-1]))
        prev["tick"] = tick
        cells = prev["cells"]
        if cells and draw(st.booleans()):
            cells.pop(draw(st.integers(0, len(cells) - 1)))
        cells.insert(0, [draw(SMALL), draw(SMALL)])
        shots = prev["shots"]
        prev["shots"] = [[(round(x * 10) + (vx + 1) // 3) / 10, vx, o] for x, vx, o in shots]
        if prev["shots"] and draw(st.booleans()):
            prev["shots"].pop(0)
        out.append(prev)
    return out


class GenericCodecTest(unittest.TestCase):
    schema = wire.Schema(ANY_SCHEMA)

    @PROPERTY
    @given(messages=histories(), every=st.integers(min_value=1, max_value=4))
    def test_any_history_round_trips(self, messages, every):
        decoder = wirecodec.Decoder(self.schema)
        for message, (frame, _) in zip(messages, encoded(self.schema, messages, every),
                                       strict=True):  # fmt: skip
            self.assertEqual(decoder.decode(frame), message)

    @PROPERTY
    @given(messages=histories(), data=st.data())
    def test_corrupt_frames_raise_wire_errors_only(self, messages, data):
        frames = encoded(self.schema, messages, 3)
        decoder = wirecodec.Decoder(self.schema)
        decoder.decode(frames[0][0])
        frame = bytearray(data.draw(st.sampled_from(frames))[0])
        for _ in range(data.draw(st.integers(1, 4))):
            frame[data.draw(st.integers(0, len(frame) - 1))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(frame)))
        with contextlib.suppress(ValueError):  # WireError, or JSON in a corrupt blob
            decoder.decode(bytes(frame[:cut]))

    @PROPERTY
    @given(messages=histories(), data=st.data())
    def test_after_a_keyframe_request_an_encoder_sends_what_a_new_one_would(self, messages, data):
        every = data.draw(st.integers(min_value=1, max_value=4))
        cut = data.draw(st.integers(min_value=0, max_value=len(messages) - 1))
        old = wirecodec.Encoder(self.schema, keyframe_every=every)
        for message in messages[:cut]:
            old.encode(message)
        old.request_keyframe()
        new = wirecodec.Encoder(self.schema, keyframe_every=every, first_frame=old.frame)
        for message in messages[cut:]:
            self.assertEqual(old.encode(message), new.encode(message))

    @PROPERTY
    @given(chans=st.lists(st.lists(SMALL, max_size=12), max_size=8),
           blobs=st.lists(SMALL, max_size=3), data=st.data())  # fmt: skip
    def test_built_messages_are_what_the_schema_walk_reads(self, chans, blobs, data):
        # Arbitrary channels: too few, too short, with enum indices out of range.
        root = data.draw(st.sampled_from([ANY_SCHEMA, WALK_SCHEMA]))

        def outcome(build):
            try:
                return build()
            except wire.WireError:
                return wire.WireError

        cursor = wire._Cursor(chans, blobs, {"size": 10, "rows.k": 1}, 5)
        want = outcome(lambda: cursor.get(root, cursor.next_chan(), ""))
        got = outcome(lambda: wire.Schema(root).build(chans, blobs, {"size": 10, "rows.k": 1}, 5))
        self.assertEqual(got, want)

    def test_quantisation_rounds_to_the_scale(self):
        schema = wire.Schema(wire.struct(("tick", wire.TICK), ("x", wire.num(10))))
        frame, _ = wirecodec.Encoder(schema, keyframe_every=1).encode({"tick": 3, "x": 1.26})
        self.assertEqual(wirecodec.Decoder(schema).decode(frame), {"tick": 3, "x": 1.3})


# --- the bytes themselves (docs/protocol.md, "Compact states") --------------------------------

BYTES_SCHEMA = wire.struct(
    ("tick", wire.TICK), ("size", wire.CONST), ("n", wire.INT), ("f", wire.num(10)),
    ("cells", CELLS), ("shots", SHOTS), ("scores", wire.rows(wire.INT)), ("extra", wire.JSON),
)  # fmt: skip
BYTES_HISTORY = [
    {"tick": 7, "size": 10, "n": 5, "f": 1.5, "cells": [[1, 2], [3, 4]],
     "shots": [[0.0, 3, 1], [1.0, -3, 2]], "scores": [1, 2], "extra": []},
    # f drops by 21.5; a cell in front; a new shot in front, shot 2 gone, shot 1 off its
    # prediction (0.0 + (3 + 1) // 3 tenths) by a tenth; the blob changes.
    {"tick": 8, "size": 10, "n": 5, "f": -20.0, "cells": [[9, 9], [1, 2], [3, 4]],
     "shots": [[0.5, 0, 7], [0.2, 3, 1]], "scores": [1, 2], "extra": [1]},
    # The front cell gone (a copy run that skips it); both shots where predicted; a score more.
    {"tick": 9, "size": 10, "n": 5, "f": -20.0, "cells": [[1, 2], [3, 4]],
     "shots": [[0.5, 0, 7], [0.3, 3, 1]], "scores": [1, 2, 3], "extra": [1]},
]  # fmt: skip
BYTES_FRAMES = [
    # keyframe 1, tick 7; the constants' JSON; 4 channels (root n, f; cells; shots; scores),
    # each its length and zigzag values; the blob
    "01 01 07  0b" + b'{"size":10}'.hex() + " 04  02 0a 1e  04 02 04 06 08  06 00 06 02 14 05 04"
    " 02 02 04  02" + b"[]".hex(),
    # delta 2, tick 8. root: 1 change, mask 0b10, zigzag(-215) in two bytes. cells: 3 rows in
    # 2 runs, 1 literal row, then a copy of 2 rows skipping 0; no residuals; the literal 9, 9.
    # shots: 2 rows, 2 runs (1 literal, 1 copy skipping 0); residuals: 1 change, mask 1, +1;
    # the literal 5, 0, 7. scores unchanged. The blob: its length + 1, the JSON.
    "02 02 08  02 02 ad 03  03 02 03 04 00 00 12 12  02 02 03 02 00 02 01 02 0a 00 0e  00"
    " 04" + b"[1]".hex(),
    # delta 3, tick 9. root unchanged. cells: 2 rows, 1 run of 2 skipping 1 row, no residuals.
    # shots: 1 run of both, residuals unchanged. scores: another length, so raw values. The
    # blob unchanged.
    "02 03 09  00  02 01 04 01 00  02 01 04 00 00  01 03 02 04 06  00",
]


class FrameBytesTest(unittest.TestCase):
    schema = wire.Schema(BYTES_SCHEMA)

    def test_keyframes_and_deltas_are_the_bytes_the_format_describes(self):
        encoder = wirecodec.Encoder(self.schema, keyframe_every=100)
        for message, want in zip(BYTES_HISTORY, BYTES_FRAMES, strict=True):
            self.assertEqual(encoder.encode(message)[0], bytes.fromhex(want))

    def test_the_frames_decode_to_the_history(self):
        decoder = wirecodec.Decoder(self.schema)
        for message, frame in zip(BYTES_HISTORY, BYTES_FRAMES, strict=True):
            self.assertEqual(decoder.decode(bytes.fromhex(frame)), message)
