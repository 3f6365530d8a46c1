"""The Pong bot: a pure function of the state, beatable by design.

It predicts where the ball reaches its paddle plane and moves there, reacting a few ticks
late and aiming with an error fixed per ball flight that grows with the ball's speed.
"""

from __future__ import annotations

from .. import rng
from . import rules

# Reaction lag and aiming error (grows with the ball speed).
BOT_REACT_TICKS = 5
BOT_ERR_BASE = 16.0
BOT_ERR_PER_SPEED = 2.3


def decide(state: dict, slot: int) -> dict | None:
    """The input of the bot in ``slot`` (always valid), or None once it has nothing to do."""
    if state["finished"] or slot in state["forfeited"]:
        return None
    paddle = state["paddles"][slot]
    ball = state["ball"]
    vx = ball["vx"]
    coming = state["serve_in"] == 0 and (vx < 0 if slot == 0 else vx > 0)
    if not coming:
        target = rules.H / 2
    elif state["since_hit"] < BOT_REACT_TICKS:
        return {"dir": paddle["dir"]}  # still reacting: keep doing what it did
    else:
        t = (rules.PLANES[slot] - ball["x"]) / vx
        predicted, _ = rules.fold(ball["y"] + ball["vy"] * t)
        u = rng.hash_unit(state["bot_seed"], slot, state["flight"])
        error = (2.0 * u - 1.0) * (BOT_ERR_BASE + BOT_ERR_PER_SPEED * ball["speed"])
        target = predicted + error
    diff = target - paddle["y"]
    if abs(diff) <= rules.PADDLE_SPEED / 2:
        return {"dir": 0}
    return {"dir": 1 if diff > 0 else -1}
