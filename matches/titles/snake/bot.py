"""The Snake bot: a pure function of the state.

Of the three non-reversing moves it drops those into a wall or a body, prefers the ones not
next to another snake's head, then the one closest to the nearest food; a bounded flood fill
checks each candidate leaves room to live in.
"""

from __future__ import annotations

from . import rules


def decide(state: dict, slot: int) -> dict | None:
    """The input of the bot in ``slot`` (always valid), or None when its snake is out."""
    if state["finished"]:
        return None
    me = state["snakes"][slot]
    if not me["alive"]:
        return None
    w, h = state["w"], state["h"]
    blocked: set[int] = set()
    danger: set[int] = set()
    for i, s in enumerate(state["snakes"]):
        if not s["alive"]:
            continue
        blocked.update(s["body"])
        if i != slot:  # cells another head may enter next tick
            head = s["body"][0]
            hx, hy = head % w, head // w
            for d in rules.DIRS:
                x, y = hx + rules.DX[d], hy + rules.DY[d]
                if 0 <= x < w and 0 <= y < h:
                    danger.add(y * w + x)
    head = me["body"][0]
    hx, hy = head % w, head // w
    target = None
    best = None
    for c in state["food"]:
        dist = abs(c % w - hx) + abs(c // w - hy)
        if best is None or dist < best:
            best, target = dist, c
    options = []
    for order, d in enumerate(rules.DIRS):
        if d == rules.OPPOSITE[me["dir"]]:
            continue
        x, y = hx + rules.DX[d], hy + rules.DY[d]
        if x < 0 or y < 0 or x >= w or y >= h:
            continue
        c = y * w + x
        if c in blocked:
            continue
        dist = 0 if target is None else abs(target % w - x) + abs(target // w - y)
        options.append((c in danger, dist, order, d, c))
    if not options:
        return {"turn": me["dir"]}  # trapped: nothing helps
    options.sort()
    need = 2 * len(me["body"]) + 4
    choice, most = options[0][3], -1
    for _, _, _, d, c in options:
        area = _flood(c, blocked, w, h, need)
        if area >= need:
            return {"turn": d}
        if area > most:
            choice, most = d, area
    return {"turn": choice}


_NEIGHBOURS: dict[tuple[int, int], list[tuple[int, ...]]] = {}


def _neighbours(w: int, h: int) -> list[tuple[int, ...]]:
    """Per cell, the cells next to it (a pure cache keyed by the grid size)."""
    table = _NEIGHBOURS.get((w, h))
    if table is None:
        table = []
        for c in range(w * h):
            x, y = c % w, c // w
            near = []
            if x > 0:
                near.append(c - 1)
            if x < w - 1:
                near.append(c + 1)
            if y > 0:
                near.append(c - w)
            if y < h - 1:
                near.append(c + w)
            table.append(tuple(near))
        _NEIGHBOURS[(w, h)] = table
    return table


def _flood(start: int, blocked: set[int], w: int, h: int, cap: int) -> int:
    """Free cells reachable from ``start`` (itself included), counting up to ``cap``."""
    table = _neighbours(w, h)
    seen = {start}
    stack = [start]
    count = 1
    while stack:
        for n in table[stack.pop()]:
            if n not in seen and n not in blocked:
                count += 1
                if count >= cap:
                    return cap
                seen.add(n)
                stack.append(n)
    return count
