"""What a socket asks of Redis: queue an input, read the last state, hold its slot, report
its round trip.

Async, with one ``redis.asyncio`` client per event loop, so the hot path (inputs) never
blocks the loop or hops to a thread; inputs go over the loop's input pipe
(``realtime.gateway.inputpipe``). Keys and scripts are ``realtime.store``'s.
"""

import asyncio
import time
import weakref

from django.conf import settings

from realtime import groups, redisconn, store
from realtime.gateway.inputpipe import Pipe
from realtime.gateway.seats import PLAYER, SPECTATOR, Seat

KEY_TTL_S = 24 * 3600  # gateway keys outlive any match; drop_match may remove them earlier


class _Redis:
    def __init__(self) -> None:
        # A pool that waits for a free connection rather than failing past its size: every
        # socket of a restarted Daphne comes back at once (tests/chaos/
        # test_reconnect_stampede.py). Sized for a Daphne's sockets, not redis-py's 100: under
        # a stampede the loop lags and each call holds its connection for as long.
        self.client = redisconn.async_client(
            "gateway", socket_connect_timeout=2, socket_timeout=settings.REDIS_DEAD_AFTER_S,
            blocking=True, max_connections=1000, timeout=10,
        )  # fmt: skip
        self.push_input = self.client.register_script(store.PUSH_INPUT)
        self.pipe = Pipe()
        self.claim = self.client.register_script(store.CLAIM_SLOT)
        self.release = self.client.register_script(store.RELEASE_SLOT)
        self.flush_process = self.client.register_script(store.FLUSH_PROCESS)


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


async def flush_process(*, keys: list, args: list) -> None:
    """This process's figures (realtime.gateway.stats) into its hash."""
    await _redis().flush_process(keys=keys, args=args)


def input_pipe_reconnects() -> int:
    """How often this loop's input pipe was replaced (``gateway.stats`` counts it)."""
    return _redis().pipe.reconnects


async def push_input(*, seat: Seat, seq: int, payload_json: str, at: int | None = None) -> int:
    """Queue an input for the runner; the server tick it arrived at, or a negative refusal.
    ``at``: the tick the client asked it to be applied at (the runner holds it until then)."""
    r = _redis()
    keys = [store.key(seat.match_id, "state"), store.key(seat.match_id, "inputs")]
    args = [seat.slot, payload_json, settings.GATEWAY_MAX_PENDING_INPUTS, seq,
            "" if at is None else at]  # fmt: skip
    return int(
        await r.pipe.call(
            r.push_input, keys=keys, args=args,
            fallback=lambda: r.push_input(keys=keys, args=args),
        )
    )  # fmt: skip


async def snapshot(
    *, seat: Seat, ask_keyframe: bool = False
) -> tuple[str | None, int | None, str | None]:
    """The last encoded state message, its tick and the match status in Redis; with
    ``ask_keyframe``, in the same round trip, the ask for a compact keyframe (see below).

    All None before the match runs: the state lives in Redis from the begin on.
    """
    read = ("HMGET", store.key(seat.match_id, "state"), "snapshot", "tick", "status")
    commands = (_keyframe_ask(seat), read) if ask_keyframe else (read,)
    raw, tick, status = (await _redis().pipe.commands(*commands))[-1]
    return (
        groups.snapshot_text(raw) if raw else None,
        int(tick) if tick is not None else None,
        status.decode() if status else None,
    )


def _keyframe_ask(seat: Seat) -> tuple:
    return ("SET", store.key(seat.match_id, "keyframe"), 1, "PX", store.KEYFRAME_ASK_TTL_MS)


async def ask_keyframe(*, seat: Seat) -> None:
    """Ask the match's runner for a compact keyframe: its next commit takes the request."""
    await _redis().pipe.commands(_keyframe_ask(seat))


async def _script(script, *, keys: list, args: list):
    # Over the loop's pipe, as inputs are: a socket's calls come a thousand at once after a
    # restart (docs/operations.md, "Reconnect stampede").
    return await _redis().pipe.call(
        script, keys=keys, args=args, fallback=lambda: script(keys=keys, args=args)
    )


async def claim_slot(*, seat: Seat, channel: str) -> str | None:
    r = _redis()
    old = await _script(
        r.claim, keys=[store.key(seat.match_id, "sockets")], args=[seat.slot, channel, KEY_TTL_S]
    )
    old = old.decode() if old else None
    return old if old != channel else None


async def seat_taken(*, seat: Seat, previous: str) -> None:
    """Tell the socket ``previous`` (on any Daphne) that a newer one took its slot: one
    PUBLISH to the match's group, whose hub hands it to each of the group's sockets there."""
    message = groups.serialize(groups.SEAT_TAKEN, "", channel=previous)
    await _redis().pipe.commands(("PUBLISH", groups.channel(seat.group), message))


async def release_slot(*, seat: Seat, channel: str) -> bool:
    r = _redis()
    released = await _script(
        r.release, keys=[store.key(seat.match_id, "sockets")], args=[seat.slot, channel]
    )
    return bool(released)


def _rtt_field(seat: Seat, channel: str) -> str:
    return str(seat.slot) if seat.role == PLAYER else f"spectator:{channel[-12:]}"


async def record_rtt(*, seat: Seat, channel: str, rtt_ms: float) -> None:
    key = store.key(seat.match_id, "rtt")
    await _redis().pipe.commands(
        ("HSET", key, _rtt_field(seat, channel), round(rtt_ms, 1)), ("EXPIRE", key, KEY_TTL_S)
    )


async def forget_rtt(*, seat: Seat, channel: str) -> None:
    if seat.role == SPECTATOR:
        await _redis().pipe.commands(
            ("HDEL", store.key(seat.match_id, "rtt"), _rtt_field(seat, channel))
        )


def now_ms() -> int:
    return int(time.time() * 1000)
