"""Quick play: a per-title queue that matches players of close ratings, or gives a lone one bots.

A player asks again and again (the lobby polls about once a second) until they are placed:

* each ask looks for waiting players of the same title whose rating (Elo, or OpenSkill's mu:
  one scale) is close: within a window of ``QUICKPLAY_RATING_WINDOW`` points that widens by
  ``QUICKPLAY_WINDOW_GROWTH_PER_S`` for every second waited (the wider of the two players'
  windows counts, so a long wait lets others reach you). The closest are taken, up to the
  title's seats: a pair for Pong at once; for Snake (4 seats) and Arena (8) a rating band
  that starts when it fills the seats or when one of it has waited ``QUICKPLAY_GATHER_S``
  (bots fill the other seats);
* a player still unplaced after ``QUICKPLAY_BOT_AFTER_S`` gets a match against bots;
* a player who stops asking (closed the tab) drops out after ``STALE_MS``, so nobody is
  paired with a ghost.

With ``QUICKPLAY_BY_RATING`` off it pairs first come, first served, as before ratings counted.
The queue lives in Redis (the ``mm:`` keys of ``realtime.store``) and every decision is one
Lua call (``store.QUICKPLAY_STEP``), so two servers asking at the same moment can never place
the same waiting player twice, nor both time out a player who was just paired.
"""

import logging
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from matches import ratings, services, standings
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


def step(*, title: str, player_id: int, now_ms: int, rating: float = ratings.MU,
         seats: int = 2, by_rating: bool | None = None) -> tuple[str, str]:  # fmt: skip
    """One atomic queue decision (``store.QUICKPLAY_STEP``); exposed for the concurrency tests
    and the simulation (``manage.py simulate_quickplay``)."""
    _, script, _ = _redis()
    queue, since, rated = _keys(title)
    kind, value = script(
        keys=[queue, since, _placed_key(player_id), rated],
        args=[player_id, now_ms, STALE_MS, bots_after_ms(), PLACED_TTL_S, _placed_key(""),
              rating, settings.QUICKPLAY_RATING_WINDOW, settings.QUICKPLAY_WINDOW_GROWTH_PER_S,
              seats, int(settings.QUICKPLAY_BY_RATING if by_rating is None else by_rating),
              int(settings.QUICKPLAY_GATHER_S * 1000)],
    )  # fmt: skip
    return kind.decode(), value.decode()


def seats_of(title: str) -> int:
    """How many a quick-play match seats: the title's default ``max_players``."""
    return get_title(title).validate_settings({})["max_players"]


def bots_after_ms() -> int:
    return int(settings.QUICKPLAY_BOT_AFTER_S * 1000)


def quickplay(*, player: Player, title: str, now_ms: int | None = None) -> Ticket:
    """Ask to play ``title`` now; call again until the ticket says ``matched``."""
    title = _title_name(title)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    bots_after_s = settings.QUICKPLAY_BOT_AFTER_S
    rating = standings.matchmaking_rating(player=player, title=title)
    kind, value = step(title=title, player_id=player.pk, now_ms=now_ms, rating=rating,
                       seats=seats_of(title))  # fmt: skip
    if kind == "placed":
        return Ticket(MATCHED, title, match=value, bots_after_s=bots_after_s)
    if kind == "paired":
        ids = [int(pk) for pk in value.split(",")]
        others = sorted(Player.objects.filter(pk__in=ids), key=lambda p: ids.index(p.pk))
        placed = [_placed_key(other.pk) for other in others]
        try:
            match = _start(title=title, players=[*others, player])
        except Exception:
            # Let the others queue again at their next ask instead of waiting for a match
            # that will never come.
            _redis()[0].delete(*placed)
            raise
        pipe = _redis()[0].pipeline()
        for key in placed:
            pipe.set(key, match.public_id, ex=PLACED_TTL_S)
        pipe.execute()
        log.info("quick play %s: %s with %s in %s", title, player,
                 ", ".join(map(str, others)), match.public_id)  # fmt: skip
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
