"""Zombie Siege's maps: plain-text tile grids beside this file, read once at import.

Legend: ``#`` wall, ``.`` floor, ``D`` door (floor, drawn as a door), ``P`` player start,
``Z`` zombie spawn, ``A`` ammo spot, ``H`` health spot; lines starting with ``;`` are
comments (the first one is the map's description). The ``map`` setting is an index into
``MAPS`` (the order of ``NAMES``).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

NAMES = ("office", "warehouse")
WALL = "#"
FLOOR_CHARS = ".DPZAH"


class MapError(ValueError):
    """A map file that breaks the legend (a bug in a shipped file, found at import)."""


@dataclass(frozen=True)
class TileMap:
    name: str
    about: str
    w: int
    h: int
    rows: tuple[str, ...]  # the grid as drawn (the snapshot's ``tiles``)
    solid: tuple[bool, ...]  # flat, index y * w + x
    starts: tuple[tuple[int, int], ...]
    spawns: tuple[tuple[int, int], ...]
    ammo: tuple[tuple[int, int], ...]
    health: tuple[tuple[int, int], ...]
    # For each floor tile, its walkable neighbours: 4 sides, and diagonals whose two sides are
    # open (no cutting corners), diagonals last.
    links: tuple[tuple[int, ...], ...]


def parse(name: str, text: str) -> TileMap:
    lines = text.splitlines()
    about = next((line[1:].strip() for line in lines if line.startswith(";")), "")
    rows = tuple(line for line in lines if line and not line.startswith(";"))
    if not rows or len({len(r) for r in rows}) != 1:
        raise MapError(f"map {name}: rows must all have the same length")
    w, h = len(rows[0]), len(rows)
    cells = {(x, y): c for y, r in enumerate(rows) for x, c in enumerate(r)}
    for (x, y), c in cells.items():
        if c != WALL and c not in FLOOR_CHARS:
            raise MapError(f"map {name}: unknown tile {c!r} at {x},{y}")
        if c != WALL and (x in (0, w - 1) or y in (0, h - 1)):
            raise MapError(f"map {name}: the border must be walls ({x},{y})")
    solid = tuple(cells[(i % w, i // w)] == WALL for i in range(w * h))

    def of(kind: str) -> tuple[tuple[int, int], ...]:
        return tuple((x, y) for y in range(h) for x in range(w) if cells[(x, y)] == kind)

    links = []
    for i in range(w * h):
        if solid[i]:
            links.append(())
            continue
        x, y = i % w, i // w
        side = [j for j in (i - w, i + 1, i + w, i - 1) if not solid[j]]
        diag = [
            (y + dy) * w + x + dx
            for dx, dy in ((1, -1), (1, 1), (-1, 1), (-1, -1))
            if not solid[(y + dy) * w + x + dx]
            and not solid[y * w + x + dx]
            and not solid[(y + dy) * w + x]
        ]
        links.append(tuple(side + diag))
    found = TileMap(name, about, w, h, rows, solid, of("P"), of("Z"), of("A"), of("H"),
                    tuple(links))  # fmt: skip
    if not found.starts or not found.spawns:
        raise MapError(f"map {name}: needs player starts (P) and zombie spawns (Z)")
    return found


MAPS = tuple(
    parse(name, (pathlib.Path(__file__).parent / f"{name}.txt").read_text()) for name in NAMES
)
