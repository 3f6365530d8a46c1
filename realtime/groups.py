"""Match groups of the channel layer: their names, their wire format, publishing to them.

States and announcements reach a match's sockets as channel-layer group messages
(``RedisPubSubChannelLayer``): a PUBLISH of a msgpack-serialized ``{"type", "text"}`` (a
state adds its runner's fencing ``epoch``, and its compact frame: ``"c"`` the bytes, ``"kf"``
whether a keyframe) on
``<prefix>__group__match.<public id>``. The tick worker publishes each state inside its commit
script, each Daphne's hub subscribes once per group, and sync code (lobby API, ops, the
supervisor) announces status changes and results through ``publish``. This module is the one
place that knows the format, so the three stay in step.
"""

from functools import cache

from channels.layers import get_channel_layer
from django.conf import settings

from matches.models import Match
from realtime import protocol, store

STATE = "match.state"  # a tick's state: the hub writes it to every socket of the group
STATUS = "match.status"  # seats or countdown changed
OVER = "match.over"  # the database says finished or aborted: sockets get it and close
SEAT_TAKEN = "seat.taken"  # a newer socket holds the slot: the one named (``channel``) closes


def group_name(public_id: str) -> str:
    return f"match.{public_id}"


def channel(group: str) -> str:
    """The Redis pub/sub channel of a group, as the channel layer names it."""
    return f"{settings.CHANNEL_LAYER_PREFIX}__group__{group}"


@cache
def _layer():
    return get_channel_layer()


def serialize(event: str, text: str, compact: tuple[bytes, bool] | None = None, **fields) -> bytes:
    """A group message as the channel layer puts it on the wire (a state also carries its
    runner's fencing ``epoch``: the hub tells a resumed runner's re-published ticks by it)."""
    if compact is not None:
        fields["c"], fields["kf"] = compact
    return _layer().serialize({"type": event, "text": text, **fields})


def deserialize(data: bytes) -> dict:
    return _layer().deserialize(data)


def snapshot_text(stored: bytes) -> str:
    """The v1 text of a match's snapshot as its commits keep it (the last state message).
    A runner of an earlier release kept the text itself (a JSON object: "{", never how a
    msgpack map starts): during a rolling upgrade it is read as it is."""
    if stored[:1] == b"{":
        return stored.decode()
    return deserialize(stored)["text"]


def first_snapshot(*, title, state: dict, players: int) -> bytes:
    """A match's initial state, kept as its commits keep every later one (init_match)."""
    text = protocol.state(tick=state.get("tick", 0), snapshot=title.snapshot(state),
                          acks=[0] * players)  # fmt: skip
    return serialize(STATE, text, epoch=0)


def publish(*, public_id: str, event: str, text: str) -> None:
    """From sync code: ``text`` verbatim to every socket of the match; ``event`` picks the
    consumer's handler. One PUBLISH, not ``async_to_sync(group_send)``, which would start an
    event loop and a Redis connection per call."""
    store.client().publish(channel(group_name(public_id)), serialize(event, text))


def match_status(match: Match) -> None:
    publish(public_id=match.public_id, event=STATUS, text=protocol.status(match))


def match_over(match: Match, *, tick: int | None = None) -> None:
    publish(public_id=match.public_id, event=OVER, text=protocol.over(match, tick=tick))
