"""The Thrust Arena bot: a pure function of the state.

Away from the walls it picks the nearest live enemy (preferring unprotected ones), leads
its shot, aims through ``aim`` with a small seeded error, fires when aligned and closes in
when far. Per-bot traits come from ``hash(bot_seed, slot)``.
"""

from __future__ import annotations

import functools
import math

from .. import rng
from . import rules

BOT_WALL_LOOKAHEAD = 20.0  # ticks of current velocity
BOT_WALL_MARGIN = 110.0
BOT_AIM_ERROR = (0.02, 0.10)  # radians (per-bot range), changes every BOT_AIM_PERIOD ticks
BOT_AIM_PERIOD = 8
BOT_FIRE_CONE = 0.12  # radians: fire when facing this close to the aim
BOT_CLOSE_IN = (220.0, 420.0)  # thrust toward the target when farther than this (per bot)
BOT_SHIELD_PENALTY = 500.0  # prefer targets without spawn protection


# The bots' seeded traits are pure functions of (seed, slot[, period]): memoized, since
# hashing costs a few microseconds, and a 64-bot match asks for them 64 times a tick.
@functools.lru_cache(maxsize=4096)
def _bot_traits(seed: int, slot: int) -> tuple[float, float]:
    """(aim error in radians, close-in distance) of the bot in ``slot``."""
    lo, hi = BOT_AIM_ERROR
    error = lo + (hi - lo) * rng.hash_unit(seed, slot, 1)
    lo, hi = BOT_CLOSE_IN
    return error, lo + (hi - lo) * rng.hash_unit(seed, slot, 2)


@functools.lru_cache(maxsize=4096)
def _bot_jitter(seed: int, slot: int, period: int) -> float:
    """The bot's aim jitter in [0, 1) for the BOT_AIM_PERIOD-tick period ``period``."""
    return rng.hash_unit(seed, slot, 3, period)


def decide(state: dict, slot: int) -> dict | None:
    """The input of the bot in ``slot`` (always valid), or None when its ship is out."""
    if state["finished"]:
        return None
    me = state["ships"][slot]
    if not me["active"] or not me["alive"]:
        return None
    x, y, vx, vy, a = me["x"], me["y"], me["vx"], me["vy"], me["a"]
    w, h = rules.world_of(state)
    # 1. Heading for a wall: turn to the centre and thrust away from it.
    px = x + vx * BOT_WALL_LOOKAHEAD
    py = y + vy * BOT_WALL_LOOKAHEAD
    m = BOT_WALL_MARGIN
    if px < m or px > w - m or py < m or py > h - m:
        aim = math.atan2(h / 2 - y, w / 2 - x)
        return _controls(abs(rules.norm_angle(aim - a)) < 0.6, False, aim)
    # 2. Nearest enemy, preferring ones without spawn protection.
    target = nearest_target(state["ships"], slot, x, y)
    if target is None:
        aim = math.atan2(h / 2 - y, w / 2 - x)
        far = math.hypot(w / 2 - x, h / 2 - y) > 150.0
        return _controls(far and abs(rules.norm_angle(aim - a)) < 0.6, False, aim)
    # 3. Lead the shot: solve |D + V t| = SHOT_SPEED * t for the flight time t.
    dx, dy = target["x"] - x, target["y"] - y
    tvx, tvy = target["vx"], target["vy"]
    qa = tvx * tvx + tvy * tvy - rules.SHOT_V2  # < 0: shots outrun ships
    qb = 2.0 * (dx * tvx + dy * tvy)
    qc = dx * dx + dy * dy
    t = (-qb - math.sqrt(qb * qb - 4.0 * qa * qc)) / (2.0 * qa)
    # Each bot has its own (seeded) accuracy and preferred distance.
    seed = state["bot_seed"]
    error, close_in = _bot_traits(seed, slot)
    u = _bot_jitter(seed, slot, state["tick"] // BOT_AIM_PERIOD)
    aim = math.atan2(dy + tvy * t, dx + tvx * t) + (2.0 * u - 1.0) * error
    off = abs(rules.norm_angle(aim - a))
    fire = off < BOT_FIRE_CONE and t < rules.SHOT_LIFE * 0.9 and target["inv"] == 0
    thrust = math.sqrt(qc) > close_in and off < 0.5 and math.hypot(vx, vy) < 0.8 * rules.MAX_SPEED
    return _controls(thrust, fire, aim)


def nearest_target(ships: list, slot: int, x: float, y: float) -> dict | None:
    """The ship (alive, active, not ``slot``) nearest to (x, y), counting a protected
    one BOT_SHIELD_PENALTY farther; on equal distances the lowest slot.

    A ship farther than the best so far along x or y is skipped before its distance is
    computed (its distance is at least that, so it cannot win): the same target as
    measuring every ship, at a fraction of the cost once a near one is found."""
    target = None
    best = math.inf
    hypot = math.hypot
    for j, o in enumerate(ships):
        dx = o["x"] - x
        if dx > best or -dx > best:
            continue
        dy = o["y"] - y
        if dy > best or -dy > best or j == slot or not o["alive"] or not o["active"]:
            continue
        d = hypot(dx, dy)
        if o["inv"] > 0:
            d += BOT_SHIELD_PENALTY
        if d < best:
            best, target = d, o
    return target


def _controls(thrust: bool, fire: bool, aim: float) -> dict:
    return {"thrust": bool(thrust), "turn": 0, "fire": bool(fire), "aim": rules.norm_angle(aim)}
