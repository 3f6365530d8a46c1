"""Finished matches with a replay, played out here instead of on the engine.

The people's inputs come from the title's own bot, except for a stretch of every
``lazy_every`` ticks in which each of them stands still (staggered), so points are scored
both ways and a match ends in a few hundred ticks. The log records those inputs the way the
tick runner does (grouped by the tick they were applied at), so the server's re-simulation
(matches.replay) arrives at the same final state.
"""

from matches import services
from matches.models import Match
from matches.titles import get_title
from tests.support.matches import counting_down


def play_out(
    title: str, *, players: int, bots: tuple[int, ...], seed: int, settings: dict,
    lazy_every: int = 200, lazy_len: int = 120, max_ticks: int = 20_000,
) -> tuple[dict, list]:  # fmt: skip
    """The final state and the input log of a match the bots play for everyone."""
    game = get_title(title)
    state = game.initial_state(players=players, seed=seed, settings=settings)
    log: list = []
    held: dict[int, dict] = {}
    while not game.is_finished(state) and state["tick"] < max_ticks:
        tick, entries = state["tick"], []
        for slot in range(players):
            if slot in bots:
                continue
            lazy = (tick + slot * lazy_every // players) % lazy_every < lazy_len
            inp = game.bot_input(state, slot)
            if lazy and title == "pong":
                inp = {"dir": 0}
            if inp is not None and inp != held.get(slot):
                held[slot] = inp
                entries.append(["i", slot, inp])
                state = game.apply_input(state, slot, inp)
        if entries:
            log.append([tick, entries])
        for slot in bots:
            inp = game.bot_input(state, slot)
            if inp is not None:
                state = game.apply_input(state, slot, inp)
        state = game.step(state)
    return state, log


def finished_with_replay(
    title: str = "pong", *, names=("ann", "bob"), settings: dict | None = None, seed: int = 2,
    **kwargs,
) -> tuple[Match, dict]:  # fmt: skip
    """A finished match of ``names`` with its replay stored; also its final snapshot.

    Pong to 3 with the default seed: bob wins 3 to 1 after 924 ticks (about 31 s), so
    the replay API serves it in four 300-frame chunks.
    """
    game = get_title(title)
    settings = game.validate_settings({"score_to": 3} if settings is None and title == "pong"
                                      else settings or {})  # fmt: skip
    # Held in its countdown, and played out before it begins: a live stack's supervisor would
    # begin an elapsed countdown, or take a running match without a runner for a lost one,
    # while a long title (Zombie Siege) is simulated.
    match = counting_down(title, names=names, settings=settings, held=True, **kwargs)
    Match.objects.filter(pk=match.pk).update(seed=seed)
    people = list(match.participations.order_by("slot"))
    final, log = play_out(
        title, players=len(people), bots=tuple(p.slot for p in people if p.is_bot),
        seed=seed, settings=match.settings,
    )  # fmt: skip
    match = services.match_begin(match_id=match.pk)
    services.match_finish(
        match_id=match.pk, result=game.result(final), replay_log=log, final_tick=final["tick"]
    )
    return Match.objects.get(pk=match.pk), game.snapshot(final)
