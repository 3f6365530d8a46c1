"""Zombie Siege's tile geometry: circles against wall tiles, rays through the grid, and the
breadth-first distances the zombies' flow field and the bots' paths are made of. Pure."""

from __future__ import annotations

import functools
import math

from .maps import MAPS

R = 0.3  # radius of a player and of a zombie, in tiles


def blocked(solid: tuple, w: int, x: float, y: float) -> bool:
    """Whether a circle of radius R at (x, y) overlaps a wall tile (its bounding box does)."""
    top, bottom = int(y - R) * w, int(y + R) * w
    left, right = int(x - R), int(x + R)
    return solid[top + left] or solid[top + right] or solid[bottom + left] or solid[bottom + right]


def slide(solid: tuple, w: int, x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Move by (dx, dy) one axis at a time; an axis that would enter a wall is not moved. A
    straight move blocked by a corner while the way is open from the tile's centre line
    slides towards that line instead (so a one-tile door is easy to walk through)."""
    if dx:
        if not blocked(solid, w, x + dx, y):
            x += dx
        elif not dy:
            c = int(y) + 0.5
            if not blocked(solid, w, x + dx, c):
                step = abs(dx)
                y += max(-step, min(step, c - y))
    if dy:
        if not blocked(solid, w, x, y + dy):
            y += dy
        elif not dx:
            c = int(x) + 0.5
            if not blocked(solid, w, c, y + dy):
                step = abs(dy)
                x += max(-step, min(step, c - x))
    return x, y


def ray(solid: tuple, w: int, x: float, y: float, ca: float, sa: float, reach: float) -> float:
    """How far a ray from (x, y) along (ca, sa) travels before a wall tile (at most reach)."""
    tx, ty = int(x), int(y)
    step_x = 1 if ca > 0 else -1
    step_y = 1 if sa > 0 else -1
    big = math.inf
    dx = abs(1.0 / ca) if ca else big
    dy = abs(1.0 / sa) if sa else big
    nx = ((tx + 1 - x) if ca > 0 else (x - tx)) * dx if ca else big
    ny = ((ty + 1 - y) if sa > 0 else (y - ty)) * dy if sa else big
    while True:
        if nx < ny:
            d, nx, tx = nx, nx + dx, tx + step_x
        else:
            d, ny, ty = ny, ny + dy, ty + step_y
        if d >= reach:
            return reach
        if solid[ty * w + tx]:
            return d


FAR = 1 << 20  # the distance of a wall tile


def bfs(tm, sources: list[int]) -> list[int]:
    """Steps from each tile to the nearest of ``sources`` (walls and unreachable: FAR)."""
    dist = [FAR] * (tm.w * tm.h)
    for s in sources:
        dist[s] = 0
    links = tm.links
    frontier = list(dict.fromkeys(sources))
    d = 0
    while frontier:
        d += 1
        nxt = []
        for t in frontier:
            for n in links[t]:
                if dist[n] == FAR:
                    dist[n] = d
                    nxt.append(n)
        frontier = nxt
    return dist


@functools.lru_cache(maxsize=4096)
def distances(map_index: int, tile: int) -> tuple[int, ...]:
    """``bfs`` from one tile: the map never changes, so it is memoized per (map, tile)."""
    return tuple(bfs(MAPS[map_index], [tile]))


def flow_field(map_index: int, tiles: list[int]):
    """The tick's one flow field from the players standing on ``tiles``: ``dist(tile)``, the
    steps to the nearest of them, exactly what one BFS from all of them gives (the minimum of
    each player's memoized distances, read only where the zombies are)."""
    fields = [distances(map_index, t) for t in dict.fromkeys(tiles)]
    if len(fields) == 1:
        return fields[0].__getitem__
    return lambda i: min([f[i] for f in fields])
