"""The wire protocol, both ways: client messages parsed against a schema, every server message
encoded (one encoder), the close codes. docs/protocol.md is the reference.

Every client message is a JSON object ``{"type": ..., "v": 1, ...}`` in a text frame; the
schema of each type lists its fields, and anything else (a ``slot``, say) is refused, so a
client can never claim what the session does not give it. Errors are ``ProtocolError`` with a
stable code, a reason and a ``ref`` (the offending seq or type) for the error frame.
A tick's state message is encoded once by the tick worker and the same text goes to every
socket.
"""

import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from matches.models import Match, Participation
from matches.titles import Title, wire

PROTOCOL_VERSION = 1

# Close codes. Not 1008 for the rate limit: autobahn (under Daphne) lets an application close
# only with 1000 or 3000-4999 and fails the connection with 1011 otherwise.
CLOSE_NORMAL = 1000
CLOSE_UNKNOWN_MATCH = 4404
CLOSE_TOO_SLOW = 4408
CLOSE_REPLACED = 4409
CLOSE_MATCH_OVER = 4410
CLOSE_RATE_LIMITED = 4429  # echoes HTTP 429

# What the gateway's input push (store.PUSH_INPUT) answers instead of a tick.
INPUT_REFUSED = {
    -1: ("not_running", "the match has not started"),
    -2: ("match_over", "the match is over"),
    -3: ("server_busy", "too many inputs are pending; slow down"),
}

MAX_SEQ = 2**53 - 1  # what a JavaScript number holds exactly


class ProtocolError(Exception):
    def __init__(self, code: str, reason: str, *, ref: Any = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.ref = ref


# --- field checks: each returns the clean value or raises ValueError with the reason -------


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return check


def _number(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int) and not -MAX_SEQ <= value <= MAX_SEQ:
        # JavaScript writes 1e21 as an integer literal; orjson cannot encode one past 64 bits.
        try:
            value = float(value)
        except OverflowError:
            raise ValueError("must be finite") from None
    if not math.isfinite(value):
        raise ValueError("must be finite")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _object(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    return value


@dataclass(frozen=True)
class Schema:
    required: dict[str, Callable[[Any], Any]]
    optional: dict[str, Callable[[Any], Any]]


_COMMON = {"type", "v"}
SCHEMAS: dict[str, Schema] = {
    # The title validates what is inside "input"; the slot comes from the session only.
    # "at": the tick whose state should first show the input (the runner holds an early one).
    "input": Schema(
        {"seq": _int(0, MAX_SEQ), "input": _object}, {"ack": _bool, "at": _int(0, MAX_SEQ)}
    ),
    "ping": Schema({"t": _number}, {}),
    "pong": Schema({"id": _int(0, MAX_SEQ)}, {}),
    "leave": Schema({}, {}),
    "resync": Schema({}, {}),  # a compact socket asks for a keyframe (it missed a delta)
}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def parse(text: str | None, *, max_bytes: int) -> dict:
    """One client frame → a validated message dict, or ``ProtocolError``."""
    if text is None:
        raise ProtocolError("binary_unsupported", "send JSON in text frames")
    # len(text) <= its UTF-8 size <= 4 * len(text): encode only when it could matter.
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes):
        raise ProtocolError("too_large", f"a message has at most {max_bytes} bytes")
    try:
        message = _decoder.decode(text)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if "is not JSON" in str(exc) else "not valid JSON"
        raise ProtocolError("bad_json", reason) from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_message", "a message needs a string 'type'")
    schema = SCHEMAS.get(kind)
    if schema is None:
        # The ref echoes it, UTF-8 safe: orjson refuses a lone surrogate ("\ud800" in JSON).
        ref = kind[:32].encode("utf-8", "replace").decode()
        raise ProtocolError(
            "unknown_type", f"unknown message type (known: {', '.join(SCHEMAS)})", ref=ref
        )
    seq = message.get("seq")
    # Only a seq the error frame can carry (orjson encodes 64-bit integers at most).
    carried = isinstance(seq, int) and not isinstance(seq, bool) and abs(seq) <= MAX_SEQ
    ref = seq if carried else kind
    if "v" in message and message["v"] != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", f"this server speaks v{PROTOCOL_VERSION}", ref=ref)
    for name in message:
        if name not in _COMMON and name not in schema.required and name not in schema.optional:
            raise ProtocolError("bad_message", f"unknown field {name[:32]!r} in {kind}", ref=ref)
    clean = {"type": kind}
    for name, check in schema.required.items():
        if name not in message:
            raise ProtocolError("bad_message", f"{kind} needs {name!r}", ref=ref)
        clean[name] = _field(kind, name, check, message[name], ref)
    for name, check in schema.optional.items():
        if name in message:
            clean[name] = _field(kind, name, check, message[name], ref)
    return clean


def _field(kind: str, name: str, check: Callable[[Any], Any], value: Any, ref: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise ProtocolError("bad_message", f"{kind}.{name} {exc}", ref=ref) from None


# --- server → client ---------------------------------------------------------------------


def dumps(value: Any) -> str:
    """Compact JSON text: every message, and the values the tick worker stores. Integer keys
    (a slot's) become strings; orjson's option for them doubles the cost of every other
    value, so it is used only for a value that has them."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def encode(kind: str, **fields: Any) -> str:
    return dumps({"type": kind, "v": PROTOCOL_VERSION, **fields})


def error(code: str, reason: str, ref: Any = None) -> str:
    return encode("error", code=code, reason=reason, ref=ref)


def state_message(
    *, tick: int, snapshot: dict, paused: list[int] | None = None, acks: list[int] | None = None
) -> dict:
    message = {"type": "state", "v": PROTOCOL_VERSION, "tick": tick, "state": snapshot}
    if acks is not None:
        message["acks"] = acks  # per slot, the last input seq applied: clients reconcile on it
    if paused:
        message["paused"] = paused  # slots whose players are away; the title waits for them
    return message


def state(
    *, tick: int, snapshot: dict, paused: list[int] | None = None, acks: list[int] | None = None
) -> str:
    return dumps(state_message(tick=tick, snapshot=snapshot, paused=paused, acks=acks))


# The compact encoding (docs/protocol.md): the state message's envelope around the title's
# schema. Envelope fields that may be missing are generic int lists, one int per slot or less.
ENCODING_V1 = "v1"
ENCODING_COMPACT = "compact"
ENCODINGS = (ENCODING_V1, ENCODING_COMPACT)
_SLOTS = wire.rows(wire.INT)


@functools.cache
def _state_schema(title_name: str, schema_json: str) -> wire.Schema:
    return wire.Schema(json.loads(schema_json))


def state_schema_of(title_schema: dict) -> dict:
    """The wire schema of a whole state message of a title (what ``welcome`` carries)."""
    return wire.struct(
        ("type", wire.CONST), ("v", wire.CONST), ("tick", wire.TICK), ("state", title_schema),
        ("paused", _SLOTS, 1), ("acks", _SLOTS, 1),
    )  # fmt: skip


def compact_schema(title: Title) -> wire.Schema | None:
    """The compiled schema of a title's state messages; None when it has no wire schema."""
    if title.wire_schema is None:
        return None
    return _state_schema(title.name, dumps(state_schema_of(title.wire_schema)))


def state_tick(text: str) -> int | None:
    """The tick of an encoded state message, read off its head (``state`` writes it before the
    snapshot) without decoding the rest; None when there is none."""
    at = text.find('"tick":', 0, 64)
    if at < 0:
        return None
    end = at + 7
    while end < len(text) and text[end].isdigit():
        end += 1
    return int(text[at + 7 : end]) if end > at + 7 else None


def ticks_of_ms(ms: float, tick_hz: int) -> int:
    """A span of ``ms`` as whole ticks (the runner's hold and catch-up, the welcome's cap)."""
    return max(0, round(ms / 1000 * tick_hz))


def people(match: Match, participations: list | None = None) -> list[dict]:
    """The seats as sockets see them (welcome and status messages); ``participations``: the
    match's in slot order when the caller has them already (loaded with their players, or
    ``selectors.SeatRow``s: anything with ``slot``, ``name``, ``is_bot`` and ``connected``)."""
    if participations is None:
        participations = match.participations.select_related("player").order_by("slot")
    return [
        {"slot": p.slot, "name": p.name, "bot": p.is_bot, "connected": p.connected}
        for p in participations
    ]


def status(match: Match) -> str:
    """Seats or countdown changed (a join, a leave)."""
    return encode(
        "status",
        status=match.status,
        starts_at=match.starts_at.isoformat() if match.starts_at else None,
        players=people(match),
    )


def over(match: Match, *, tick: int | None = None) -> str:
    """The ``over`` message for a finished or aborted match, from what the database recorded."""
    if match.status == Match.Status.ABORTED:
        return encode("over", tick=tick, status=match.status, reason=match.abort_reason,
                      result=None)  # fmt: skip
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
    return encode("over", tick=tick, status=match.status, result=result)
