"""The Zombie Siege bot: a pure function of the state.

In order: revive a downed teammate when no zombie is close; back away from a zombie that is
too close (towards open floor, the way cover works in a corridor); fetch ammo or health when
low; keep near the team. It always aims at the nearest zombie it can see and shoots when it
sees one in range. Paths go through the tiles by a breadth-first search from the goal tile,
memoized per (map, tile) by the rules.
"""

from __future__ import annotations

import math

from .. import rng
from . import grid, rules
from .maps import MAPS

DANGER = 2.5  # tiles: a zombie this close is backed away from
LOW_AMMO = 20
LOW_HP = 45
TEAM_GAP = 4.0  # tiles: farther than this from the nearest teammate, walk back to them
AIM_ERROR = 0.05  # radians, seeded per bot and tick period
STEER = 0.08
SIGHT_CANDIDATES = 4  # nearest zombies tested for a line of sight


def _toward(map_index: int, x: float, y: float, gx: float, gy: float) -> tuple[float, float]:
    """The direction to walk from (x, y) to (gx, gy) around the walls."""
    tm = MAPS[map_index]
    here = int(y) * tm.w + int(x)
    goal = int(gy) * tm.w + int(gx)
    if here == goal:
        return gx - x, gy - y
    dist = grid.distances(map_index, goal)
    best = min(tm.links[here], key=dist.__getitem__, default=None)
    if best is None or dist[best] == grid.FAR:
        return gx - x, gy - y
    return best % tm.w + 0.5 - x, best // tm.w + 0.5 - y


def nearest(zombies: list, x: float, y: float, count: int) -> list:
    """The ``count`` zombies nearest to (x, y) by ``(z[1] - x) ** 2 + (z[2] - y) ** 2``, then id
    (ids are unique: no ties). ``**`` is libm's pow, within an ulp or so of the product but not
    always equal to it, and three times slower: the products pick the few within a hair of the
    ``count`` nearest (a relative 1e-9 covers any rounding), pow orders those as it always did."""
    if not zombies:
        return []
    cheap = [(a := z[1] - x) * a + (b := z[2] - y) * b for z in zombies]
    reach = sorted(cheap)[min(count, len(cheap)) - 1] * (1.0 + 1e-9)
    few = sorted([((z[1] - x) ** 2 + (z[2] - y) ** 2, z[0], z)
                  for c, z in zip(cheap, zombies, strict=True) if c <= reach])  # fmt: skip
    return [z for _, _, z in few[:count]]


def _keys(dx: float, dy: float) -> tuple[int, int]:
    """The held keys that walk along (dx, dy): an axis only while it is off by more than
    STEER tiles, so the bot tracks a tile's centre through doors."""
    return (1 if dx > STEER else -1 if dx < -STEER else 0,
            1 if dy > STEER else -1 if dy < -STEER else 0)  # fmt: skip


def decide(state: dict, slot: int) -> dict | None:
    """The input of the bot in ``slot`` (always valid), or None when it cannot act."""
    if state["finished"]:
        return None
    team = state["team"]
    me = team[slot]
    if not me["active"] or me["down"]:
        return None
    x, y = me["x"], me["y"]
    index = state["settings"]["map"]
    tm = MAPS[index]
    zombies = state["zombies"]
    near = nearest(zombies, x, y, SIGHT_CANDIDATES)
    closest = math.hypot(near[0][1] - x, near[0][2] - y) if near else math.inf
    seen = None
    for z in near:
        d = math.hypot(z[1] - x, z[2] - y)
        if d >= rules.RANGE:
            break
        if d < 1e-9 or grid.ray(tm.solid, tm.w, x, y, (z[1] - x) / d, (z[2] - y) / d, d) >= d:
            seen = z
            break
    fire = seen is not None and me["ammo"] > 0
    if seen is not None:
        u = rng.hash_unit(state["bot_seed"], slot, state["tick"] // 6)
        aim = math.atan2(seen[2] - y, seen[1] - x) + (2.0 * u - 1.0) * AIM_ERROR
    else:
        aim = me["a"]
    move = (0.0, 0.0)
    down = [p for p in team if p["active"] and p["down"]]
    if down and closest > DANGER:
        p = min(down, key=lambda p: (p["x"] - x) ** 2 + (p["y"] - y) ** 2)
        if (p["x"] - x) ** 2 + (p["y"] - y) ** 2 <= (0.8 * rules.REVIVE_REACH) ** 2:
            fire = False  # a reviver must hold fire
        else:
            move = _toward(index, x, y, p["x"], p["y"])
    elif closest < DANGER:
        z = near[0]
        move = _away(tm, x, y, x - z[1], y - z[2])
    else:
        want = 0 if me["ammo"] < LOW_AMMO else 1 if me["hp"] < LOW_HP else None
        picks = [p for p in state["pickups"] if p[0] == want]
        mates = [p for i, p in enumerate(team) if i != slot and p["active"] and not p["down"]]
        if picks:
            k = min(picks, key=lambda p: (p[1] - x) ** 2 + (p[2] - y) ** 2)
            move = _toward(index, x, y, k[1], k[2])
        elif mates:
            m = min(mates, key=lambda p: (p["x"] - x) ** 2 + (p["y"] - y) ** 2)
            if math.hypot(m["x"] - x, m["y"] - y) > TEAM_GAP:
                move = _toward(index, x, y, m["x"], m["y"])
    mx, my = _keys(*move)
    return {"mx": mx, "my": my, "aim": rules.wrap(aim), "fire": fire}


def _away(tm, x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Away from a threat along (dx, dy), or sideways when a wall is right behind."""
    n = math.hypot(dx, dy) or 1.0
    for ux, uy in ((dx, dy), (-dy, dx), (dy, -dx)):
        sx, sy = ux / n * 0.5, uy / n * 0.5
        if not grid.blocked(tm.solid, tm.w, x + sx, y + sy):
            return sx, sy
    return dx, dy
