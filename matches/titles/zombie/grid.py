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


def clear_tiles(tm) -> tuple[bool, ...]:
    """For each tile, whether it and its 8 neighbours are all floor: a circle in such a tile
    moving at most ``1 - R`` cannot touch a wall, so ``slide`` would move it by (dx, dy)."""
    w, solid = tm.w, tm.solid
    return tuple(
        not solid[i]
        and 0 < i % w < w - 1
        and not any(solid[i + dy * w + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        for i in range(tm.w * tm.h)
    )


CLEAR = tuple(clear_tiles(tm) for tm in MAPS)  # per map index


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


FAR = 255  # the distance of a wall tile (distance maps are bytes: a map's paths are shorter)


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
        if d >= FAR:
            raise ValueError(f"map {tm.name}: a path of {FAR} steps or more")
    return dist


# (map, tile) -> its distances: at most every floor tile of every map (~1 100, < 1 KB each).
_DISTANCES: dict[tuple[int, int], bytes] = {}


def distances(map_index: int, tile: int) -> bytes:
    """``bfs`` from one tile: the map never changes, so it is memoized per (map, tile)."""
    got = _DISTANCES.get((map_index, tile))
    if got is None:
        got = _DISTANCES[(map_index, tile)] = bytes(bfs(MAPS[map_index], [tile]))
    return got


class Flow:
    """The one flow field of the players standing on ``sources`` (tiles): ``flow(tile)`` is
    the steps from ``tile`` to the nearest of them, exactly what one BFS from all of them
    gives (the minimum of each player's memoized distances, read only where asked), and
    ``step(tile)`` is ``(steps, x, y)``: the centre of the first of the tile's links one step
    closer, the neighbour ``min(links[tile], key=flow)`` picks. Both are pure functions of the
    map and the sources, so the steps asked for are kept in ``plan`` for the next ticks the
    players stand on the same tiles."""

    __slots__ = ("fields", "links", "plan", "w")

    def __init__(self, map_index: int, sources: tuple[int, ...]) -> None:
        tm = MAPS[map_index]
        self.fields = tuple(distances(map_index, t) for t in sources)
        self.links, self.w = tm.links, tm.w
        self.plan: dict[int, tuple[int, float, float]] = {}

    def __call__(self, tile: int) -> int:
        return min([f[tile] for f in self.fields])

    def step(self, tile: int) -> tuple[int, float, float]:
        got = self.plan.get(tile)
        if got is not None:
            return got
        fields = self.fields
        d = min([f[tile] for f in fields])
        if 1 < d < FAR:
            # The field is a BFS over symmetric links: the nearest neighbour is one step
            # closer, so the first link at d - 1 is the one ``min`` picks; only the players
            # d away can have one (explicit loops: this runs for every tile a zombie enters).
            closer = d - 1
            near = [f for f in fields if f[tile] == d]
            if len(near) == 1:
                f = near[0]
                for best in self.links[tile]:
                    if f[best] == closer:
                        break
            else:
                for best in self.links[tile]:
                    if closer in [f[best] for f in near]:
                        break
            got = (d, best % self.w + 0.5, best // self.w + 0.5)
        else:
            got = (d, 0.0, 0.0)
        self.plan[tile] = got
        return got


@functools.lru_cache(maxsize=64)
def _flow(map_index: int, sources: tuple[int, ...]) -> Flow:
    return Flow(map_index, sources)


def flow_field(map_index: int, tiles: list[int]) -> Flow:
    """The tick's flow field from the players standing on ``tiles`` (any order, repeats):
    memoized per set of tiles, so a tick whose players stand where they stood on a recent
    tick reads the steps the zombies took then."""
    return _flow(map_index, tuple(sorted(set(tiles))))
