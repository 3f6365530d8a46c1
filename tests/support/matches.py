"""Matches for tests: in the database through the services, or straight into Redis."""

import datetime
import json

from django.utils import timezone

from matches import services
from matches.models import Match
from matches.titles import get_title
from realtime import groups, store


def redis_match(
    match_id: int = 1, *, title: str = "pong", players: int = 2, bots=(), settings=None,
    seed: int = 7,
) -> store.Meta:  # fmt: skip
    """A running match known only to Redis, as the supervisor leaves it at begin."""
    game = get_title(title)
    meta = store.Meta(
        match_id=match_id, public_id=f"t{match_id}", title=title, tick_hz=game.tick_hz,
        players=players, bots=tuple(bots),
    )  # fmt: skip
    state = game.initial_state(
        players=players, seed=seed, settings=game.validate_settings(settings or {})
    )
    snapshot = groups.first_snapshot(title=game, state=state, players=players)
    store.init_match(meta=meta, state=state, snapshot=snapshot)
    return meta


def counting_down(title: str = "pong", *, names=("ann", "bob"), held: bool = False,
                  **kwargs) -> Match:  # fmt: skip
    """A full match whose countdown has already elapsed; ``held``: one that ends in an hour
    (a live stack's supervisor leaves it to the test to begin)."""
    match = services.match_create(title=title, **kwargs)
    for name in names:
        services.match_join(match_id=match.pk, player=services.player_create(display_name=name))
    if match.max_players > len(names):
        services.match_start(match_id=match.pk, countdown_s=3600 if held else 0)
    starts_at = timezone.now() + datetime.timedelta(hours=1) if held else match.created_at
    Match.objects.filter(pk=match.pk).update(starts_at=starts_at)
    return Match.objects.get(pk=match.pk)


def queue_input(
    *,
    match_id: int,
    slot: int,
    payload: dict,
    tick: int = 0,
    seq: int | None = None,
    at: int | None = None,
) -> None:
    """An input in the match's queue, as the gateway's PUSH_INPUT script leaves it."""
    item = {"slot": slot, "tick": tick, "input": payload}
    item = item if seq is None else {**item, "seq": seq}
    item = json.dumps(item if at is None else {**item, "at": at})
    store.client().rpush(store.key(match_id, "inputs"), item)
