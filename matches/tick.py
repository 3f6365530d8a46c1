"""One tick of a match: the tick worker runs it live, replays re-run it from the log.

Both call ``advance``, so a replay re-simulates exactly what was played. A tick's entries are
what the runner applied at it, in order (``["i", slot, input]`` an input, ``["i", slot, input,
late]`` one that arrived ``late`` ticks after the tick it asked for, ``["f", slot]`` a
forfeit); then, unless the match is paused, every bot decides and the rules step once.
"""

from matches.titles import Title


def advance(title: Title, state: dict, *, entries, bots, step: bool = True) -> dict:
    """The state after one tick (titles mutate and return the state they get)."""
    for entry in entries:
        if entry[0] == "i":
            if len(entry) > 3:
                state = title.apply_late_input(state, entry[1], entry[2], entry[3])
            else:
                state = title.apply_input(state, entry[1], entry[2])
        else:
            state = title.forfeit(state, entry[1])
    if step:
        for slot in bots:
            bot_input = title.bot_input(state, slot)
            if bot_input is not None:
                state = title.apply_input(state, slot, bot_input)
        state = title.step(state)
    return state
