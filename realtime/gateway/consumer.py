"""The match socket, ``/ws/matches/<public_id>/``: translates frames, holds no game rules.

A session that holds a seat in the match plays its slot; anyone else watches. State messages
come pre-encoded from the tick runner through the channel layer and are sent verbatim: the
v1 text, or for a socket opened with ``?encoding=compact`` the runner's binary frame (a
keyframe first, then the deltas that apply on it). Close codes and every message are in
docs/protocol.md.
"""

import asyncio
import functools
import logging
import time
import uuid
from collections import deque
from urllib.parse import parse_qs

import orjson
import redis
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from matches.errors import MatchError, MatchNotFound
from matches.titles import GameError, get_title
from realtime import protocol, store
from realtime.gateway import daphne, dbpool, relay, seats, stats
from realtime.gateway.hub import Packed, hub
from realtime.gateway.ratelimit import TokenBucket
from realtime.protocol import (
    CLOSE_MATCH_OVER,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    CLOSE_REPLACED,
    CLOSE_TOO_SLOW,
    CLOSE_UNKNOWN_MATCH,
    ProtocolError,
)

log = logging.getLogger(__name__)
UNAVAILABLE = ("unavailable", "the server cannot reach its store right now; try again")

# The sockets' database calls run on a few threads of their own (gateway/dbpool.py), not
# Channels' one thread per process: after a restart a thousand handshakes wait on the
# database side by side instead of in one queue. Each call is a whole unit (its own
# transaction), so none needs the thread of another. Calls for sockets already admitted go
# before new handshakes'.
_db = dbpool.on_pool
_admitted_db = functools.partial(dbpool.on_pool, urgent=True)


try:  # what Daphne (autobahn) raises for a send to a socket whose client is closing it
    from autobahn.exception import Disconnected as SocketGone
except ImportError:  # pragma: no cover - another ASGI server: the spec's OSError subclass
    SocketGone = OSError


class MatchConsumer(AsyncWebsocketConsumer):
    # No channel of its own in the channel layer: whatever a socket is sent comes through its
    # match's group and the hub, the notice that a newer socket took its seat too. The pub/sub
    # layer SUBSCRIBEs a channel per socket (and PUBLISHes to one) on one connection behind one
    # lock: after a restart a thousand handshakes queued there, past Daphne's 5 s handshake
    # timeout (docs/operations.md, "Reconnect stampede"). No layer is configured by this name.
    channel_layer_alias = None
    channel_name = ""  # this socket's name in its slot's holder (m:{id}:sockets), set at connect
    seat: seats.Seat | None = None
    closing = False
    joined = False
    left = False
    socket = None  # Daphne's protocol object when states can be written directly
    compact = False  # this socket gets compact frames (docs/protocol.md, "Compact states")
    need_key = False  # ...and waits for a keyframe: deltas before it cannot apply
    resync_at = -1e9
    asked_at = -1e9  # when this socket last asked for a keyframe without a resync
    finishing: asyncio.Task | None = None  # a delayed spectator's last seconds, then `over`
    rechecking: asyncio.Task | None = None  # has the match ended while the hub was away?

    # --- lifecycle ---------------------------------------------------------------------------
    async def connect(self) -> None:
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        self.channel_name = f"ws.{uuid.uuid4().hex}"
        # After a restart every socket of a Daphne comes back at once and the handshakes wait
        # their turn at the database thread; one whose client gave up meanwhile is dropped
        # unanswered, so the queue does not grow with work for nobody (docs/operations.md,
        # "Reconnect stampede").
        pending = daphne.socket_of(self.base_send)
        try:
            seat = await _db(_admit_unless_gone)(
                pending, public_id=public_id, session=self.scope["session"]
            )
        except MatchNotFound as exc:
            # Accept first: a refused handshake cannot say why, an error frame can.
            await self.accept()
            await self._fail(exc.code, exc.reason, CLOSE_UNKNOWN_MATCH)
            return
        if seat is None or daphne.gone(pending):
            stats.FIGURES.count("handshakes_abandoned")
            await self.close()
            return
        self.seat = seat
        if seat.over_text is not None:
            await self.accept()
            await self._finish(seat.over_text)
            return
        self.bucket = TokenBucket(
            rate=settings.GATEWAY_RATE_PER_S, burst=settings.GATEWAY_RATE_BURST
        )
        self.max_bytes = settings.GATEWAY_MAX_MESSAGE_BYTES
        self.ping_every = settings.GATEWAY_PING_INTERVAL_S
        self.slow_after = settings.GATEWAY_SLOW_CLIENT_S
        self.probe_id = 0
        self.probe_sent: float | None = None  # set while a server ping awaits its pong
        self.last_probe = time.monotonic()
        # Spectators watch a running match late, so that watching cannot be used to ghost.
        self.delay = settings.SPECTATOR_DELAY_S if seat.role != seats.PLAYER else 0.0
        self.delayed: deque[tuple[float, str]] = deque()
        encoding, encoding_error = self._encoding(seat)
        self.compact = self.need_key = encoding == protocol.ENCODING_COMPACT
        self.resync_min = settings.GATEWAY_RESYNC_MIN_S
        # States the hub delivers before the welcome and snapshot went out wait here.
        self.early: list[tuple[str, Packed | None]] | None = []
        # Join the group before reading the snapshot, so that no tick falls in between. The
        # process-wide hub, not the channel layer, delivers the group's messages (gateway/hub.py).
        await hub().join(seat.group, self)
        self.joined = True
        await self.accept()
        self.socket = daphne.socket_of(self.base_send)
        if daphne.gone(pending):
            # Reset by Daphne's handshake timeout (or left) while it waited: claiming the slot
            # now would take it from the player's live socket, and this one's disconnect would
            # then leave the slot empty.
            stats.FIGURES.count("handshakes_abandoned")
            self.closing = True
            return
        if seat.role == seats.PLAYER:
            previous = await relay.claim_slot(seat=seat, channel=self.channel_name)
            if previous:
                await relay.seat_taken(seat=seat, previous=previous)
            await _admitted_db(seats.seat_presence)(seat=seat, connected=True)
        if self.compact:
            self.asked_at = time.monotonic()
        # The keyframe ask and the snapshot read in one round trip.
        snapshot, tick, redis_status = await relay.snapshot(seat=seat, ask_keyframe=self.compact)
        wire_fields = {"encoding": encoding}
        if self.compact:
            wire_fields["wire"] = protocol.state_schema_of(get_title(seat.title).wire_schema)
        await self.send(
            protocol.encode(
                "welcome", **seat.welcome, tick=tick, server_ms=relay.now_ms(),
                delay_s=self.delay, **wire_fields,
            )
        )  # fmt: skip
        if encoding_error is not None:
            await self.send(protocol.error("bad_encoding", encoding_error))
        if snapshot is not None and self.delay and redis_status == "running":
            self.delayed.append((time.monotonic() + self.delay, snapshot))
        elif snapshot is not None and not (self.compact and redis_status == "running"):
            # A compact socket of a running match starts from the keyframe it asked for.
            await self.send(snapshot)
        early, self.early = self.early, None
        for text, packed in early:
            # A compact socket needs every frame from its keyframe on, whatever the snapshot.
            if (
                (self.compact and packed is not None)
                or tick is None
                or (orjson.loads(text)["tick"] > tick)
            ):
                await self.deliver_state(text, None, packed)
        if redis_status == "finished":
            # The final tick is written; the database may have recorded it before we joined
            # the group, in which case its `over` went out without us.
            over = await _admitted_db(seats.over_now)(seat=seat)
            if over is not None:
                await self._finish(over)

    def _encoding(self, seat: seats.Seat) -> tuple[str, str | None]:
        """The encoding this socket asked for (``?encoding=``) and can have, and why not."""
        asked = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("encoding")
        if not asked or asked[-1] == protocol.ENCODING_V1:
            return protocol.ENCODING_V1, None
        if asked[-1] not in protocol.ENCODINGS:
            return protocol.ENCODING_V1, (
                f"unknown encoding {asked[-1][:32]!r} (known: {', '.join(protocol.ENCODINGS)}); "
                "sending v1"
            )
        if get_title(seat.title).wire_schema is None or self.delay:
            # Delayed spectators and titles without a wire schema keep v1 (docs/protocol.md).
            return protocol.ENCODING_V1, None
        return protocol.ENCODING_COMPACT, None

    async def disconnect(self, code: int) -> None:
        stats.FIGURES.count(f"ws_closed:{code}")
        for task in (self.finishing, self.rechecking):
            if task is not None:
                task.cancel()
        seat = self.seat
        if seat is None or not self.joined:
            return
        await hub().leave(seat.group, self)
        # Only the socket that still holds the slot reports it gone (not a replaced one).
        if (
            seat.role == seats.PLAYER
            and not self.left
            and await relay.release_slot(seat=seat, channel=self.channel_name)
        ):
            await _admitted_db(seats.seat_presence)(seat=seat, connected=False)
        await relay.forget_rtt(seat=seat, channel=self.channel_name)

    # --- client → server ---------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or self.seat is None:
            return
        if not self.bucket.take():
            await self._fail("rate_limited", "too many messages", CLOSE_RATE_LIMITED)
            return
        try:
            message = protocol.parse(text_data, max_bytes=self.max_bytes)
            await getattr(self, f"on_{message['type']}")(message)
        except ProtocolError as exc:
            await self.send(protocol.error(exc.code, exc.reason, exc.ref))
        except redis.RedisError as exc:
            # Redis unreachable (a failover, a restart): the socket stays; the client retries.
            log.warning("ws %s: Redis unavailable: %s", self.channel_name, exc)
            await self.send(protocol.error(*UNAVAILABLE))

    async def on_input(self, message: dict) -> None:
        try:
            await self._input(message)
        except redis.RedisError:
            stats.FIGURES.count(store.REFUSED + UNAVAILABLE[0])
            raise ProtocolError(*UNAVAILABLE, ref=message["seq"]) from None
        except ProtocolError as exc:
            # Refusals before the runner show in /metrics next to the runner's own.
            stats.FIGURES.count(store.REFUSED + exc.code)
            raise

    async def _input(self, message: dict) -> None:
        seat, seq, arrived = self.seat, message["seq"], time.monotonic()
        if seat.role != seats.PLAYER:
            raise ProtocolError("not_a_player", "spectators cannot send inputs", ref=seq)
        try:
            payload = get_title(seat.title).validate_input(message["input"])
        except GameError as exc:
            raise ProtocolError(exc.code, exc.reason, ref=seq) from None
        tick = await relay.push_input(seat=seat, seq=seq, payload_json=protocol.dumps(payload),
                                      at=message.get("at"))  # fmt: skip
        if tick < 0:
            code, reason = protocol.INPUT_REFUSED[tick]
            raise ProtocolError(code, reason, ref=seq)
        hub().input_queued(seat.group, tick, arrived)
        if message.get("ack"):
            await self.send(protocol.encode("ack", seq=seq, tick=tick))

    async def on_resync(self, message: dict) -> None:
        if not self.compact:
            raise ProtocolError("not_compact", "resync is for sockets opened with "
                                "?encoding=compact", ref="resync")  # fmt: skip
        now = time.monotonic()
        if now - self.resync_at < self.resync_min:
            raise ProtocolError("resync_too_soon", f"at most one resync per {self.resync_min:g} s",
                                ref="resync")  # fmt: skip
        self.resync_at = now
        self.need_key = True
        await relay.ask_keyframe(seat=self.seat)

    async def on_ping(self, message: dict) -> None:
        await self.send(protocol.encode("pong", t=message["t"], server_ms=relay.now_ms()))

    async def on_pong(self, message: dict) -> None:
        if self.probe_sent is None or message["id"] != self.probe_id:
            raise ProtocolError("unexpected_pong", "no ping with this id is pending", ref="pong")
        rtt_ms = (time.monotonic() - self.probe_sent) * 1000
        self.probe_sent = None
        await relay.record_rtt(seat=self.seat, channel=self.channel_name, rtt_ms=rtt_ms)

    async def on_leave(self, message: dict) -> None:
        seat = self.seat
        if seat.role != seats.PLAYER:
            raise ProtocolError("not_a_player", "spectators have no seat to leave", ref="leave")
        try:
            await _admitted_db(seats.player_leave)(match_id=seat.match_id, player=seat.player)
        except MatchError as exc:
            raise ProtocolError(exc.code, exc.reason, ref="leave") from None
        self.left = True
        await relay.release_slot(seat=seat, channel=self.channel_name)
        await self._close(CLOSE_NORMAL)

    async def dispatch(self, message: dict) -> None:
        await daphne.dispatch(self, message)

    # --- hub / channel layer → client -------------------------------------------------------
    def deliver_now(self, text: str, frame: bytes | None, packed: Packed | None) -> bool:
        """``deliver_state``'s common case (a frame written straight to an idle socket, no
        ping due) without a coroutine per socket and tick; False, having changed nothing,
        when the state needs ``deliver_state`` (a ping, a keyframe ask, a delay, a send)."""
        if self.closing:
            return True
        if self.early is not None:
            self.early.append((text, packed))
            return True
        if self.delay or self.socket is None:
            return False
        if self.compact:
            if packed is None:
                return False
            if self.need_key and not packed.key:
                return True  # a delta against a frame this socket never had
            frame = packed.frame
        if frame is None:
            return False
        now = time.monotonic()
        if self.probe_sent is not None:
            if now - self.probe_sent > self.slow_after:
                return False
        elif now - self.last_probe >= self.ping_every:
            return False
        if not daphne.write(self.socket, frame):
            return False
        if self.compact:
            self.need_key = False
        sent = stats.SENT
        sent.frames += 1
        sent.bytes += len(frame)
        return True

    async def deliver_state(
        self, text: str, frame: bytes | None = None, packed: Packed | None = None
    ) -> None:
        """One tick's state, already encoded (and framed, from the hub); called for every
        local socket. ``packed``: the same state's compact frame, when the runner made one."""
        if self.closing:
            return
        if self.early is not None:
            self.early.append((text, packed))
            return
        now = time.monotonic()
        if self.compact and packed is not None:
            if self.need_key and not packed.key:
                return  # a delta against a frame this socket never had
            self.need_key = False
            text, frame = None, packed.frame
        elif self.compact and now - self.asked_at >= 1.0:
            # The runner sends no compact frames: it started after our ask (a handover).
            self.asked_at, self.need_key = now, True
            await relay.ask_keyframe(seat=self.seat)
        if self.probe_sent is not None:
            if now - self.probe_sent > self.slow_after:
                # Our ping sits unread behind the states we sent: the client stopped reading
                # and its backlog grows in Daphne's write buffer, where we cannot see it.
                await self._fail("too_slow", "no pong to the last ping", CLOSE_TOO_SLOW)
                return
        elif now - self.last_probe >= self.ping_every:
            self.probe_id += 1
            self.probe_sent = self.last_probe = now
            await self.send(protocol.encode("ping", id=self.probe_id))
        if self.delay:
            self.delayed.append((now + self.delay, text))
            await self._release_due(now)
        elif frame is None or self.socket is None or not daphne.write(self.socket, frame):
            if text is None:
                await self.send(bytes_data=packed.data)
            else:
                await self.send(text)
        else:
            sent = stats.SENT
            sent.frames += 1
            sent.bytes += len(frame)

    async def _release_due(self, now: float) -> None:
        delayed = self.delayed
        while delayed and delayed[0][0] <= now:
            await self.send(delayed.popleft()[1])

    async def match_state(self, event: dict) -> None:
        # A state sent to this socket's own channel (the hub delivers the group's).
        await self.deliver_state(event["text"])

    async def match_status(self, event: dict) -> None:
        if not self.closing:
            await self.send(event["text"])

    async def match_over(self, event: dict) -> None:
        if self.closing:
            return
        if self.delayed:
            # A delayed spectator sees the last seconds first; the result must not spoil them.
            # Not awaited here: the hub's one reader serves every match of this Daphne, and
            # sitting out a spectator's delay in it (5 s) had it take its silent Redis
            # connection for dead and replace it, losing what was published meanwhile:
            # other matches' `over`, whose players then waited forever (make soak).
            if self.finishing is None:
                self.finishing = asyncio.get_running_loop().create_task(
                    self._finish_late(event["text"])
                )
            return
        await self._finish(event["text"])

    async def hub_rejoined(self, event: dict) -> None:
        """The hub's Redis connection was replaced and anything published meanwhile lost: an
        `over` among it would leave this socket open on a finished match for good. Asked of
        the database in a task (the hub's reader serves every socket here)."""
        if not self.closing and self.rechecking is None and self.finishing is None:
            self.rechecking = asyncio.get_running_loop().create_task(self._over_meanwhile())

    async def _over_meanwhile(self) -> None:
        try:
            over = await _admitted_db(seats.over_now)(seat=self.seat)
        finally:
            self.rechecking = None
        if over is not None:
            await self.match_over({"text": over})

    async def _finish_late(self, over: str) -> None:
        while self.delayed and not self.closing:
            await asyncio.sleep(max(0.0, self.delayed[0][0] - time.monotonic()))
            await self._release_due(time.monotonic())
        if not self.closing:
            await self._finish(over)

    async def seat_taken(self, event: dict) -> None:
        # Sent to every socket of the match (its group); it names the one a newer socket
        # replaced, wherever that one is.
        if event.get("channel") == self.channel_name and not self.closing:
            await self._fail("replaced", "this seat was taken by a newer connection",
                             CLOSE_REPLACED)  # fmt: skip

    # --- helpers -----------------------------------------------------------------------------
    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        # A client that hangs up while replies are owed (its close frame read, the connection
        # not yet torn down): Daphne raises instead of dropping the message. Uncaught, that
        # ended the consumer before its disconnect(): no presence off for a player, a dead
        # member left in the hub.
        sent = stats.SENT
        sent.frames += 1
        sent.bytes += len(text_data or bytes_data or b"")
        try:
            await super().send(text_data, bytes_data, close)
        except (OSError, SocketGone):
            self.closing = True

    async def _fail(self, code: str, reason: str, close_code: int) -> None:
        log.info("ws %s: %s (%s), closing %s", self.channel_name, code, reason, close_code)
        await self.send(protocol.error(code, reason))
        await self._close(close_code)

    async def _finish(self, over: str) -> None:
        await self.send(over)
        await self._close(CLOSE_MATCH_OVER)

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)


def _admit_unless_gone(pending, *, public_id: str, session) -> seats.Seat | None:
    """``seats.admit``, on the database thread, unless the client left while it waited."""
    if daphne.gone(pending):
        return None
    return seats.admit(public_id=public_id, session=session)
