"""Pong's wire schema (matches/titles/wire.py): the court's sizes travel in keyframes, the
ball and paddles to the tenth the snapshot rounds them to."""

from matches.titles.wire import BOOL, CONST, INT, JSON, OPT_INT, TICK, num, rows, struct

D = num(10)

SCHEMA = struct(
    ("tick", TICK), ("w", CONST), ("h", CONST), ("paddle_w", CONST), ("paddle_h", CONST),
    ("paddle_x", CONST), ("ball_r", CONST),
    ("paddles", rows(struct(("y", D), ("dir", INT)))),
    ("ball", struct(("x", D), ("y", D), ("vx", D), ("vy", D))),
    ("serve_in", INT), ("serve_to", INT), ("rally", INT), ("scores", rows(INT)),
    ("score_to", CONST), ("finished", BOOL), ("winner", OPT_INT), ("events", JSON),
)  # fmt: skip
