"""Who a socket is in its match, and the database side of its presence.

Sync functions, run by the consumer through ``database_sync_to_async``: they read the
database through the selectors and write it through the services. The Redis side of a socket
(inputs, slots, round trips) is ``realtime.gateway.relay``.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from matches import selectors, services
from matches.identity import player_held, session_player_id
from matches.models import Match, Participation, Player
from matches.titles import get_title
from realtime import groups, protocol, store

PLAYER, SPECTATOR = "player", "spectator"
# Presence matters once the seats are fixed; while waiting a seat may still change hands.
PRESENCE_STATUSES = (Match.Status.COUNTDOWN, Match.Status.RUNNING)


@dataclass
class Seat:
    """One connection's view of its match: who it is and what it may do."""

    match_id: int
    public_id: str
    title: str
    status: str
    role: str = SPECTATOR
    slot: int | None = None
    player: Player | None = None
    welcome: dict = field(default_factory=dict)
    over_text: str | None = None  # the final message, when the match is over

    @property
    def group(self) -> str:
        return groups.group_name(self.public_id)


# --- database side (sync) ------------------------------------------------------------------


def admit(*, public_id: str, session: SessionBase) -> Seat:
    """The seat a session gets in a match; raises ``MatchNotFound``.

    Two statements (the match with its seats, players and accounts; the session), in plain SQL
    (matches/sql.py): every handshake after a Daphne restart makes them (docs/operations.md,
    "Reconnect stampede"). The seats give the welcome's people and the session's own seat."""
    match = selectors.match_seats(public_id=public_id)
    seat = Seat(match_id=match.match_id, public_id=match.public_id, title=match.title,
                status=match.status)  # fmt: skip
    if match.is_over:
        seat.over_text = protocol.over(selectors.match_get(public_id=public_id))
        return seat
    wanted = session_player_id(session)
    own = next((r for r in match.seats if wanted is not None and r.player_id == wanted), None)
    player = player_held(session, own.player()) if own is not None else None
    if player is not None and not own.left:
        seat.role, seat.slot, seat.player = PLAYER, own.slot, player
    title = get_title(match.title)
    seat.welcome = {
        "match": match.public_id,
        "role": seat.role,
        "slot": seat.slot,
        "title": match.title,
        "rules_version": match.rules_version,
        "settings": match.settings,
        "tick_hz": match.tick_hz,
        "status": match.status,
        "starts_at": _iso(match.starts_at),
        "players": protocol.people(match, match.seats),
        "pauses_on_disconnect": title.pauses_on_disconnect,
        "reconnect_grace_s": settings.RECONNECT_GRACE_S,
        "ping_interval_ms": round(settings.GATEWAY_PING_INTERVAL_S * 1000),
        "catch_up_ticks": protocol.ticks_of_ms(settings.INPUT_CATCH_UP_MS, match.tick_hz),
        "limits": {
            "max_message_bytes": settings.GATEWAY_MAX_MESSAGE_BYTES,
            "rate_per_s": settings.GATEWAY_RATE_PER_S,
            "burst": settings.GATEWAY_RATE_BURST,
        },
    }
    return seat


def over_now(*, seat: Seat) -> str | None:
    """The ``over`` message if the match ended since the seat was taken, else None."""
    match = selectors.match_get(public_id=seat.public_id)
    return protocol.over(match) if match.is_over else None


def seat_presence(*, seat: Seat, connected: bool) -> None:
    """The player's socket opened or closed: the database flag, then the runner's clock."""
    services.participation_set_connected(
        match_id=seat.match_id, player=seat.player, connected=connected
    )
    if selectors.match_status(match_id=seat.match_id) in PRESENCE_STATUSES:
        store.push_presence(match_id=seat.match_id, slot=seat.slot, connected=connected)


def player_leave(*, match_id: int, player: Player) -> None:
    """The player gives up: the seat is freed (waiting) or forfeited at the next tick."""
    slot = (
        Participation.objects.filter(match_id=match_id, player=player)
        .values_list("slot", flat=True)
        .first()
    )
    services.match_leave(match_id=match_id, player=player)
    if slot is not None and selectors.match_status(match_id=match_id) in PRESENCE_STATUSES:
        # Away since the epoch: past any grace period, so the runner forfeits at once.
        store.push_presence(match_id=match_id, slot=slot, connected=False, at=1.0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
