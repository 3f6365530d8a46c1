"""The gateway's wire format: client messages parsed against a schema, server replies encoded.

Every client message is a JSON object ``{"type": ..., "v": 1, ...}`` in a text frame; the
schema of each type lists its fields, and anything else (a ``slot``, say) is refused, so a
client can never claim what the session does not give it. Errors are ``ProtocolError`` with a
stable code, a reason and a ``ref`` (the offending seq or type) for the error frame.
docs/protocol.md is the reference for both directions.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

PROTOCOL_VERSION = 1

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode

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
    "input": Schema({"seq": _int(0, MAX_SEQ), "input": _object}, {"ack": _bool}),
    "ping": Schema({"t": _number}, {}),
    "pong": Schema({"id": _int(0, MAX_SEQ)}, {}),
    "leave": Schema({}, {}),
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
        raise ProtocolError(
            "unknown_type", f"unknown message type (known: {', '.join(SCHEMAS)})", ref=kind[:32]
        )
    seq = message.get("seq")
    ref = seq if isinstance(seq, int) and not isinstance(seq, bool) else kind
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


def compact(value: Any) -> str:
    return _dumps(value)


def encode(kind: str, **fields: Any) -> str:
    return _dumps({"type": kind, "v": PROTOCOL_VERSION, **fields})


def error(code: str, reason: str, ref: Any = None) -> str:
    return encode("error", code=code, reason=reason, ref=ref)


def _dumps(message: dict) -> str:
    return orjson.dumps(message).decode()


def encode_state(*, tick: int, snapshot: dict, paused: list[int] | None = None) -> str:
    message = {"type": "state", "v": PROTOCOL_VERSION, "tick": tick, "state": snapshot}
    if paused:
        message["paused"] = paused  # slots whose players are away; the title waits for them
    return _dumps(message)


def encode_over(*, tick: int, result: dict) -> str:
    return _dumps({"type": "over", "v": PROTOCOL_VERSION, "tick": tick, "result": result})
