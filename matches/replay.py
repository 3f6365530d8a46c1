"""Replays by re-simulation: seed + settings + the input log give back every state.

Pure Python over the title interface (no Django, no I/O), like the rules themselves. The
log is what the tick runner applied, grouped by the tick at which it was applied:
``[[tick, [["i", slot, input] | ["i", slot, input, late] | ["f", slot], ...]], ...]`` (``late``:
an input caught up that many ticks, matches/tick.py); each tick is re-run by
``matches.tick.advance``, the function the runner ticks with.
"""

import zlib
from collections import deque
from collections.abc import Iterator

import orjson

from matches import tick
from matches.titles import get_title


def pack_log(log: list) -> bytes:
    return zlib.compress(orjson.dumps(log), level=9)


def unpack_log(blob: bytes) -> list:
    return orjson.loads(zlib.decompress(bytes(blob)))


def states(
    *, title: str, players: int, bots: tuple[int, ...], seed: int, settings: dict, log: list,
    max_ticks: int,
) -> Iterator[dict]:  # fmt: skip
    """Every state of the match from its first to its last, one per tick (the same dict,
    mutated: copy what you keep)."""
    game = get_title(title)
    by_tick: dict[int, list] = {}
    for at, entries in log:
        by_tick.setdefault(at, []).extend(entries)
    state = game.initial_state(players=players, seed=seed, settings=settings)
    yield state
    while not game.is_finished(state):
        entries = by_tick.get(state["tick"], ())
        # The last recorded tick: what was applied at it (a forfeit that ended the match)
        # counts, but a match stopped here (by staff) was never stepped further.
        last = state["tick"] >= max_ticks
        state = tick.advance(game, state, entries=entries, bots=bots, step=not last)
        if last:
            if entries:
                yield state
            return
        yield state


def final_result(**kwargs) -> dict:
    """The result re-simulation arrives at (compare it with the recorded one)."""
    last = deque(states(**kwargs), maxlen=1)[0]
    return get_title(kwargs["title"]).result(last)
