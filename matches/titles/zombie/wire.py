"""Zombie Siege's wire schema (matches/titles/wire.py): the map travels in keyframes only,
the team index-aligned, zombies and pickups seq rows (a zombie matched on its id, so a
step costs its small position change)."""

from matches.titles.wire import BOOL, CONST, INT, JSON, OPT_INT, TICK, num, rows, struct, tup

D = num(10)
C = num(100)

PLAYER = struct(
    ("x", C), ("y", C), ("a", C), ("mx", INT), ("my", INT), ("hp", INT), ("ammo", INT),
    ("down", BOOL), ("revive", INT), ("active", BOOL), ("kills", INT),
)  # fmt: skip

SCHEMA = struct(
    ("tick", TICK), ("map", CONST), ("w", CONST), ("h", CONST), ("tiles", CONST),
    ("waves", CONST), ("wave", INT), ("to_spawn", INT), ("next_wave_in", INT),
    ("team", rows(PLAYER)), ("zombies", rows(tup(INT, D, D), seq=True, key=(0,))),
    ("pickups", rows(tup(INT, D, D), seq=True)), ("scores", rows(INT)), ("finished", BOOL),
    ("winner", OPT_INT), ("events", JSON),
)  # fmt: skip
