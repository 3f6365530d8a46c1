"""Per-process fan-out of match groups: one Redis subscription per match group, straight to
the sockets of this Daphne process.

The tick runner publishes each tick once to the match's group in the channel layer's wire
format (``realtime.groups``). Through Channels every socket would pay for its own queue,
msgpack decode, task wake-up and dispatch 30 times a second (docs/benchmarks.md); here the
message is decoded once per process, its pre-encoded text (and compact frame, when the
runner made one) framed once (``realtime.gateway.daphne``) and handed to each local socket.
Other group messages (`over`, `status`) go to the consumer's handlers as the layer would
deliver them.

At-most-once, like the pub/sub layer: a state lost while Redis reconnects is superseded by
the next tick; once subscribed again each socket is sent ``hub.rejoined``, so that one whose
match ended meanwhile (its ``over`` lost) learns it. Never twice nor backwards: per match the
hub relays only states newer than the last it relayed, or of that tick from the same runner
(epoch), so that a runner resumed on a promoted replica a few ticks behind, re-publishing
tick numbers the sockets already have, reaches none of them (docs/operations.md, Sentinel
failover); the states it holds back are counted (``states_held_back``). The connection is
opened as ``realtime.redisconn`` says (TLS, ACL user, Sentinel, RESP2) and watched by its
``Liveness``: one that falls silent (half-open) is replaced within REDIS_DEAD_AFTER_S, logged
and counted (``redis_reconnects:hub``).
"""

import asyncio
import contextlib
import logging
import time
from typing import NamedTuple, Protocol

import hiredis
import orjson

from realtime import groups, protocol, redisconn, store
from realtime.gateway import daphne, stats

log = logging.getLogger(__name__)

RECONNECT_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)
# What a member is sent once its group is subscribed again after a lost connection: a state
# missed meanwhile is superseded by the next tick, an `over` is not (the consumer asks).
REJOINED = "hub.rejoined"


class Packed(NamedTuple):
    """A state's compact frame (docs/protocol.md): its bytes, as a websocket frame, and
    whether it is a keyframe."""

    data: bytes
    frame: bytes
    key: bool


class Member(Protocol):
    def deliver_now(self, text: str, frame: bytes, packed: Packed | None) -> bool: ...

    async def deliver_state(
        self, text: str, frame: bytes | None = None, packed: Packed | None = None
    ) -> None: ...

    async def dispatch(self, message: dict) -> None: ...


def channel_of(group: str) -> bytes:
    return groups.channel(group).encode()


class Hub:
    def __init__(self) -> None:
        self.members: dict[bytes, set[Member]] = {}
        self._confirmed: dict[bytes, asyncio.Event] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task | None = None
        # channel -> (tick, time) of the first input queued since its match's last state here:
        # one input -> state latency sample per match and tick at most.
        self.awaiting: dict[bytes, tuple[int, float]] = {}
        self.reconnects = 0  # connections lost or found dead and replaced (tests)
        # channel -> (tick, runner's epoch) of the last state relayed to its sockets
        self.relayed: dict[bytes, tuple[int, int | None]] = {}
        # Channels subscribed again after a lost connection, until Redis confirms: then their
        # sockets are told (REJOINED), for what was published meanwhile is gone.
        self._rejoining: set[bytes] = set()

    async def join(self, group: str, member: Member) -> None:
        """Add a socket to a group; returns once Redis confirmed the subscription, so that a
        snapshot read afterwards cannot miss a tick."""
        channel = channel_of(group)
        members = self.members.setdefault(channel, set())
        members.add(member)
        if channel not in self._confirmed:
            self._confirmed[channel] = asyncio.Event()
            self._ensure_running()
            await self._connected.wait()
            self._command(b"SUBSCRIBE", channel)
        await asyncio.wait_for(self._confirmed[channel].wait(), timeout=10)

    async def leave(self, group: str, member: Member) -> None:
        channel = channel_of(group)
        members = self.members.get(channel)
        if members is None:
            return
        members.discard(member)
        if not members:
            del self.members[channel]
            self._confirmed.pop(channel, None)
            self.relayed.pop(channel, None)
            if self._writer is not None and self._connected.is_set():
                self._command(b"UNSUBSCRIBE", channel)

    def input_queued(self, group: str, tick: int, at: float) -> None:
        """An input of this group's match was queued at server tick ``tick`` (arrived ``at``)."""
        self.awaiting.setdefault(channel_of(group), (tick, at))

    def _input_latency(self, channel: bytes, text: str) -> None:
        queued = self.awaiting.get(channel)
        # The first state past the tick an input arrived at is the one that applied it.
        if queued is not None and orjson.loads(text)["tick"] > queued[0]:
            del self.awaiting[channel]
            stats.FIGURES.observe("input_latency", (time.monotonic() - queued[1]) * 1000)

    def _fresh(self, channel: bytes, tick: int, epoch: int | None) -> bool:
        """Whether a state is news to this group's sockets: a tick past the last relayed, or
        that tick again from the same runner (a paused match, a forfeit's final state). The
        same tick from a new runner is a re-publish; it moves the mark to that runner."""
        last = self.relayed.get(channel)
        if last is None or tick > last[0]:
            self.relayed[channel] = (tick, epoch)
            return True
        if tick < last[0]:
            return False
        if epoch == last[1]:
            return True
        self.relayed[channel] = (tick, epoch)
        return False

    # --- the connection ----------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
            stats.start(self)

    def _command(self, *parts: bytes) -> None:
        self._writer.write(hiredis.pack_command(parts))

    async def _run(self) -> None:
        attempt = 0
        while self.members:
            liveness = None
            try:
                reader = await self._open()
                parser = hiredis.Reader()
                await self._handshake(reader, parser)
                for channel in list(self.members):
                    self._confirmed.setdefault(channel, asyncio.Event())
                    self._command(b"SUBSCRIBE", channel)
                    if attempt:
                        self._rejoining.add(channel)
                self._connected.set()
                if attempt:
                    self.reconnects += 1
                    stats.FIGURES.count(store.RECONNECTS + "hub")
                attempt = 0
                liveness = redisconn.Liveness(ping=lambda: self._command(b"PING"),
                                              dead=self._dead)  # fmt: skip
                liveness.start()
                await self._read(reader, parser, liveness)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, hiredis.ProtocolError) as e:
                log.warning("hub: Redis connection lost (%s); reconnecting", e or type(e).__name__)
            except Exception:  # never let the one connection of every socket here die quietly
                log.exception("hub: unexpected failure; reconnecting")
            finally:
                if liveness is not None:
                    liveness.stop()
                self._connected.clear()
                for event in self._confirmed.values():
                    event.clear()
                if self._writer is not None:
                    self._writer.transport.abort()
                    self._writer = None
            await asyncio.sleep(RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)])
            attempt += 1

    async def _open(self) -> asyncio.StreamReader:
        reader = asyncio.StreamReader(limit=2**26)
        transport, protocol = await redisconn.open_connection(
            lambda: asyncio.StreamReaderProtocol(reader)
        )
        self._writer = asyncio.StreamWriter(transport, protocol, reader, asyncio.get_running_loop())
        return reader

    def _dead(self, silent: float) -> None:
        log.warning("hub: nothing from Redis for %.1f s (a half-open connection); replacing it",
                    silent)  # fmt: skip
        if self._writer is not None:
            self._writer.transport.abort()  # the read ends; _run reconnects

    async def _handshake(self, reader: asyncio.StreamReader, parser: hiredis.Reader) -> None:
        commands = redisconn.handshake("hub")
        for command in commands:
            self._command(*command)
        replies = [await asyncio.wait_for(self._one(reader, parser), timeout=3) for _ in commands]
        redisconn.check_handshake(commands, replies)

    async def _one(self, reader: asyncio.StreamReader, parser: hiredis.Reader):
        while (reply := parser.gets()) is False:
            data = await reader.read(65536)
            if not data:
                raise asyncio.IncompleteReadError(b"", None)
            parser.feed(data)
        return reply

    async def _read(self, reader, parser: hiredis.Reader, liveness: redisconn.Liveness) -> None:
        while True:
            data = await reader.read(262144)
            if not data:
                raise asyncio.IncompleteReadError(b"", None)
            liveness.received()
            parser.feed(data)
            while (reply := parser.gets()) is not False:
                await self._handle(reply)

    async def _handle(self, reply) -> None:
        if isinstance(reply, hiredis.ReplyError):  # LOADING after a restart, NOPERM by ACL
            raise OSError(f"Redis refused a hub command: {reply}")
        kind = reply[0]
        if kind == b"message":
            members = self.members.get(reply[1])
            if not members:
                return
            message = groups.deserialize(reply[2])
            if message.get("type") == groups.STATE:
                text = message["text"]
                tick = protocol.state_tick(text)
                if tick is not None and not self._fresh(reply[1], tick, message.get("epoch")):
                    stats.FIGURES.count("states_held_back")
                    return
                if self.awaiting:
                    self._input_latency(reply[1], text)
                frame = daphne.text_frame(text.encode())  # once for every local socket
                compact = message.get("c")
                packed = compact and Packed(compact, daphne.binary_frame(compact),
                                            bool(message.get("kf")))  # fmt: skip
                # Daphne's send runs to completion without suspending: no task per socket,
                # and no coroutine either when the frame goes straight out (deliver_now).
                for member in list(members):
                    try:
                        if not member.deliver_now(text, frame, packed):
                            await member.deliver_state(text, frame, packed)
                    except Exception:  # one broken socket must not starve the others
                        log.exception("hub: delivering a state failed")
            else:
                for member in list(members):
                    with contextlib.suppress(Exception):
                        await member.dispatch(message)
        elif kind == b"subscribe":
            event = self._confirmed.get(reply[1])
            if event is not None:
                event.set()
            if reply[1] in self._rejoining:
                self._rejoining.discard(reply[1])
                for member in list(self.members.get(reply[1], ())):
                    with contextlib.suppress(Exception):
                        await member.dispatch({"type": REJOINED})


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """The hub of the running event loop (Daphne has one; tests make several)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for stale in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[stale]
        found = _hubs[loop] = Hub()
    return found
