"""Thrust Arena's wire schema (matches/titles/wire.py): ships index-aligned, shots seq rows
predicted one tick along their velocity (matched on velocity and owner)."""

from matches.titles.wire import BOOL, CONST, INT, JSON, OPT_INT, TICK, num, rows, struct, tup

from .rules import Arena

D = num(10)

SHIP = struct(
    ("x", D), ("y", D), ("vx", D), ("vy", D), ("a", num(100)), ("hp", INT), ("alive", BOOL),
    ("active", BOOL), ("inv", INT), ("respawn_in", INT), ("thrust", BOOL), ("kills", INT),
    ("deaths", INT),
)  # fmt: skip
# x, y, vx, vy (per second), owner: a shot moves vx / tick_hz a tick.
SHOT = rows(tup(D, D, D, D, INT), seq=True, key=(2, 3, 4), move=((0, 2), (1, 3)),
            div=Arena.tick_hz)  # fmt: skip

SCHEMA = struct(
    ("tick", TICK), ("w", CONST), ("h", CONST), ("ship_r", CONST), ("shot_r", CONST),
    ("max_hp", CONST), ("ticks_left", INT), ("ships", rows(SHIP)), ("shots", SHOT),
    ("scores", rows(INT)), ("finished", BOOL), ("winner", OPT_INT), ("events", JSON),
)  # fmt: skip
