"""What the websocket consumer does besides translating messages: seats and presence.

Sync functions (run through ``database_sync_to_async``) read the database through the
selectors and write it through the services; async functions touch Redis with one
``redis.asyncio`` client per event loop, so the hot path (inputs) never blocks the loop or
hops to a thread. Keys owned here, next to those listed in ``realtime.store``:

    m:{id}:sockets  hash  slot -> channel name of the one socket playing that slot
    m:{id}:rtt      hash  slot (or "spectator:<channel>") -> last round-trip time, ms
"""

import asyncio
import contextlib
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime

import redis.asyncio as aioredis
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from redis.exceptions import RedisError

from matches import selectors, services
from matches.identity import player_for_session
from matches.models import Match, Participation, Player
from matches.titles import get_title
from realtime import counters, store
from realtime import protocol as messages
from realtime.gateway.inputpipe import Pipe

PLAYER, SPECTATOR = "player", "spectator"
# Presence matters once the seats are fixed; while waiting a seat may still change hands.
PRESENCE_STATUSES = (Match.Status.COUNTDOWN, Match.Status.RUNNING)
KEY_TTL_S = 24 * 3600  # gateway keys outlive any match; drop_match may remove them earlier


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
        return store.group_name(self.public_id)


# --- database side (sync) ------------------------------------------------------------------


def people(match: Match) -> list[dict]:
    return [
        {"slot": p.slot, "name": p.name, "bot": p.is_bot, "connected": p.connected}
        for p in match.participations.select_related("player").order_by("slot")
    ]


def over_text(match: Match, *, tick: int | None = None) -> str:
    """The ``over`` message for a finished or aborted match, from what the database recorded."""
    if match.status == Match.Status.ABORTED:
        return messages.encode(
            "over", tick=tick, status=match.status, reason=match.abort_reason, result=None
        )
    summary = match.summary or {}
    forfeited = [
        p.slot for p in match.participations.all() if p.result == Participation.Result.FORFEIT
    ]
    result = {
        "scores": summary.get("scores", []),
        "winner": summary.get("winner_slot"),
        "summary": summary.get("text", ""),
        "forfeited": forfeited,
    }
    return messages.encode("over", tick=tick, status=match.status, result=result)


def admit(*, public_id: str, session: SessionBase) -> Seat:
    """The seat a session gets in a match; raises ``MatchNotFound``."""
    match = selectors.match_get(public_id=public_id)
    seat = Seat(match_id=match.pk, public_id=match.public_id, title=match.title,
                status=match.status)  # fmt: skip
    if match.is_over:
        seat.over_text = over_text(match)
        return seat
    player = player_for_session(session)
    participation = selectors.participation_for(match=match, player=player)
    if participation is not None and participation.left_at is None:
        seat.role, seat.slot, seat.player = PLAYER, participation.slot, player
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
        "players": people(match),
        "pauses_on_disconnect": title.pauses_on_disconnect,
        "reconnect_grace_s": settings.RECONNECT_GRACE_S,
        "ping_interval_ms": round(settings.GATEWAY_PING_INTERVAL_S * 1000),
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
    return over_text(match) if match.is_over else None


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


# --- Redis side (async) --------------------------------------------------------------------

# The tick the input arrives at and the push, in one round trip; refused before the match
# runs, after it ends, and when the runner is too far behind to take more.
_PUSH_INPUT = """
local st = redis.call('HMGET', KEYS[1], 'tick', 'status')
if not st[1] then return -1 end
if st[2] == 'finished' then return -2 end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -3 end
redis.call('RPUSH', KEYS[2],
  '{"slot":' .. ARGV[1] .. ',"tick":' .. st[1] .. ',"input":' .. ARGV[2] .. '}')
return tonumber(st[1])
"""
# Take a slot for this socket; the previous holder (if any) is returned, to be told.
_CLAIM = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return old
"""
# Give a slot back only if this socket still holds it (a newer one may have taken over).
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""
INPUT_REFUSED = {
    -1: ("not_running", "the match has not started"),
    -2: ("match_over", "the match is over"),
    -3: ("server_busy", "too many inputs are pending; slow down"),
}


class _Redis:
    def __init__(self) -> None:
        self.client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        self.push_input = self.client.register_script(_PUSH_INPUT)
        self.pipe = Pipe(settings.REDIS_URL)  # the input path (realtime/pipe.py)
        self.claim = self.client.register_script(_CLAIM)
        self.release = self.client.register_script(_RELEASE)


_per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Redis]" = (
    weakref.WeakKeyDictionary()
)


def _redis() -> _Redis:
    # redis.asyncio connections belong to the loop that opened them (tests run many loops).
    loop = asyncio.get_running_loop()
    r = _per_loop.get(loop)
    if r is None:
        r = _per_loop[loop] = _Redis()
    return r


async def count_refused(reason: str) -> None:
    """An input refused here, counted with the runner's refusals (realtime.counters)."""
    with contextlib.suppress(RedisError):  # a counter must never fail the socket
        await counters.count_refused_input_async(_redis().client, reason)


async def push_input(*, seat: Seat, payload_json: str) -> int:
    """Queue an input for the runner; the server tick it arrived at, or a negative refusal."""
    r = _redis()
    keys = [store.key(seat.match_id, "state"), store.key(seat.match_id, "inputs")]
    args = [seat.slot, payload_json, settings.GATEWAY_MAX_PENDING_INPUTS]
    return int(
        await r.pipe.call(
            r.push_input, keys=keys, args=args,
            fallback=lambda: r.push_input(keys=keys, args=args),
        )
    )  # fmt: skip


async def snapshot(*, seat: Seat) -> tuple[str | None, int | None, str | None]:
    """The last encoded state message, its tick and the match status in Redis.

    All None before the match runs: the state lives in Redis from the begin on.
    """
    raw, tick, status = await _redis().client.hmget(
        store.key(seat.match_id, "state"), ["snapshot", "tick", "status"]
    )
    return (
        raw.decode() if raw else None,
        int(tick) if tick is not None else None,
        status.decode() if status else None,
    )


async def claim_slot(*, seat: Seat, channel: str) -> str | None:
    old = await _redis().claim(
        keys=[store.key(seat.match_id, "sockets")], args=[seat.slot, channel, KEY_TTL_S]
    )
    old = old.decode() if old else None
    return old if old != channel else None


async def release_slot(*, seat: Seat, channel: str) -> bool:
    released = await _redis().release(
        keys=[store.key(seat.match_id, "sockets")], args=[seat.slot, channel]
    )
    return bool(released)


def _rtt_field(seat: Seat, channel: str) -> str:
    return str(seat.slot) if seat.role == PLAYER else f"spectator:{channel[-12:]}"


async def record_rtt(*, seat: Seat, channel: str, rtt_ms: float) -> None:
    key = store.key(seat.match_id, "rtt")
    pipe = _redis().client.pipeline(transaction=False)
    pipe.hset(key, _rtt_field(seat, channel), round(rtt_ms, 1))
    pipe.expire(key, KEY_TTL_S)
    await pipe.execute()


async def forget_rtt(*, seat: Seat, channel: str) -> None:
    if seat.role == SPECTATOR:
        await _redis().client.hdel(store.key(seat.match_id, "rtt"), _rtt_field(seat, channel))


def now_ms() -> int:
    return int(time.time() * 1000)
