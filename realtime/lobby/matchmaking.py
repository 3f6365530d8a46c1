"""Quick play: a per-title queue that pairs waiting players, or gives a lone one bots.

A player asks again and again (the lobby polls about once a second) until they are placed:

* the first ask queues them; the next player of the same title who asks is paired with them
  at once and creates the match (both seated, countdown started, bots fill the other seats
  of a bigger title);
* a player still alone after ``QUICKPLAY_BOT_AFTER_S`` gets a match against bots;
* a player who stops asking (closed the tab) drops out after ``STALE_MS``, so nobody is
  paired with a ghost.

The queue lives in Redis (the ``mm:`` keys of ``realtime.store``) and every decision is one
Lua call (``store.QUICKPLAY_STEP``), so two servers asking at the same moment can never pair
the same waiting player twice, nor both time out a player who was just paired.
"""

import logging
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from matches import services
from matches.errors import MatchError
from matches.models import Match, Player
from matches.titles import GameError, get_title
from realtime import store

log = logging.getLogger(__name__)

# A waiting player asks about once a second; three missed asks and they are gone.
STALE_MS = 4000
# How long a placement waits to be picked up (and a "pending" one to be completed).
PLACED_TTL_S = 60

WAITING, MATCHED = "waiting", "matched"


@dataclass(frozen=True)
class Ticket:
    """Where a quick-play ask stands: still waiting, or placed in a match."""

    status: str
    title: str
    match: str | None = None  # public id once matched
    waited_s: float = 0.0
    bots_after_s: float = 0.0
    with_bots: bool = False

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "title": self.title,
            "match": self.match,
            "waited_s": round(self.waited_s, 2),
            "bots_after_s": self.bots_after_s,
            "with_bots": self.with_bots,
        }


@cache
def _redis():
    client = store.client()
    return (client, client.register_script(store.QUICKPLAY_STEP),
            client.register_script(store.QUICKPLAY_CANCEL))  # fmt: skip


_keys = store.quickplay_keys
_placed_key = store.quickplay_placed_key


def _title_name(title: str) -> str:
    try:
        return get_title(title).name
    except GameError as exc:
        raise MatchError(exc.reason, code=exc.code) from exc


def step(*, title: str, player_id: int, now_ms: int) -> tuple[str, str]:
    """One atomic queue decision (see ``_STEP``); exposed for the concurrency tests."""
    _, script, _ = _redis()
    queue, since = _keys(title)
    kind, value = script(
        keys=[queue, since, _placed_key(player_id)],
        args=[player_id, now_ms, STALE_MS, bots_after_ms(), PLACED_TTL_S, _placed_key("")],
    )
    return kind.decode(), value.decode()


def bots_after_ms() -> int:
    return int(settings.QUICKPLAY_BOT_AFTER_S * 1000)


def quickplay(*, player: Player, title: str, now_ms: int | None = None) -> Ticket:
    """Ask to play ``title`` now; call again until the ticket says ``matched``."""
    title = _title_name(title)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    bots_after_s = settings.QUICKPLAY_BOT_AFTER_S
    kind, value = step(title=title, player_id=player.pk, now_ms=now_ms)
    if kind == "placed":
        return Ticket(MATCHED, title, match=value, bots_after_s=bots_after_s)
    if kind == "paired":
        partner = Player.objects.get(pk=int(value))
        try:
            match = _start(title=title, players=[partner, player])
        except Exception:
            # Let the partner queue again at their next ask instead of waiting for a match
            # that will never come.
            _redis()[0].delete(_placed_key(partner.pk))
            raise
        _redis()[0].set(_placed_key(partner.pk), match.public_id, ex=PLACED_TTL_S)
        log.info("quick play %s: %s vs %s in %s", title, partner, player, match.public_id)
        return Ticket(MATCHED, title, match=match.public_id, bots_after_s=bots_after_s)
    if kind == "bots":
        match = _start(title=title, players=[player])
        log.info("quick play %s: %s against bots in %s", title, player, match.public_id)
        return Ticket(
            MATCHED, title, match=match.public_id, bots_after_s=bots_after_s, with_bots=True
        )
    waited = int(value) / 1000 if kind == "waiting" else 0.0
    return Ticket(WAITING, title, waited_s=waited, bots_after_s=bots_after_s)


def quickplay_cancel(*, player: Player, title: str) -> None:
    """Leave the queue (a pairing that already happened stands)."""
    title = _title_name(title)
    _, _, cancel = _redis()
    cancel(keys=list(_keys(title)), args=[player.pk])


def _start(*, title: str, players: list[Player]) -> Match:
    """A match of the title's default settings, the players seated in order, counting down;
    bots take the seats nobody holds when it begins."""
    return services.match_create_seated(title=title, players=players, fill_with_bots=True)
