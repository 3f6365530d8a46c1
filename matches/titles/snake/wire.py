"""Snake's wire schema (matches/titles/wire.py): bodies and food are seq rows, so a move costs
the new head and a copy run."""

from matches.titles.wire import BOOL, CONST, INT, JSON, OPT_INT, TICK, enum, rows, struct, tup

from .rules import DIRS

CELL = tup(INT, INT)

SCHEMA = struct(
    ("tick", TICK), ("w", CONST), ("h", CONST), ("ticks_left", INT),
    ("snakes", rows(struct(
        ("body", rows(CELL, seq=True)), ("dir", enum(*DIRS)), ("alive", BOOL), ("len", INT),
        ("score", INT),
    ))),
    ("food", rows(CELL, seq=True)), ("scores", rows(INT)), ("finished", BOOL),
    ("winner", OPT_INT), ("events", JSON),
)  # fmt: skip
