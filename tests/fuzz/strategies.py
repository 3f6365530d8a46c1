"""Hypothesis strategies for the socket's frames, built from the documented schemas: the
client messages of docs/protocol.md (``protocol.SCHEMAS`` names the same fields) and each
title's input (its README). A case is mostly right and a little wrong: a documented field
with an edge value, a wrong type, a field too many, a byte cut or spliced in the text.

``frames`` draws one structured frame and ``mutants`` derives cheap byte-level variants of
it from a seeded generator the draw chose, so that a million frames take minutes, not
Hypothesis's per-example time; both are deterministic under ``derandomize``.
"""

import json
import math
import random
import re
from pathlib import Path

from hypothesis import strategies as st

from realtime import protocol

ROOT = Path(__file__).resolve().parents[2]
MAX_SEQ = protocol.MAX_SEQ
TAU = 2 * math.pi

EDGE_INTS = (0, 1, -1, 2, MAX_SEQ, MAX_SEQ + 1, -MAX_SEQ - 1, 2**31, 2**63 - 1, 2**63, 2**64,
             -(2**63) - 1, 10**21, 10**308, 10**309, 10**400)  # fmt: skip
EDGE_FLOATS = (0.0, -0.0, 0.5, -1.5, 5e-324, 1e-300, 1e300, -1e300, 1.7976931348623157e308,
               math.pi, -math.pi, TAU, -TAU, math.nextafter(TAU, 10.0), 1e21,
               2.0**53 + 2)  # fmt: skip
EDGE_TEXT = ("", "\x00", "a\x00b", "\ud800", "\udfff", "\u2028", "\ufeff", "é", "💥" * 3,
             "__proto__", "constructor", " ", "0", "1e999", "null", "%00", "../..", "9" * 30,
             "-1", "٣")  # fmt: skip
# Every key any message or input documents, and a few no schema has.
KEYS = ("type", "v", "seq", "input", "ack", "at", "t", "id", "slot", "dir", "turn", "thrust",
        "fire", "aim", "seen", "mx", "my", "player", "tick", "state", "__proto__", "")  # fmt: skip

integers = st.one_of(st.integers(), st.sampled_from(EDGE_INTS))
floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(EDGE_FLOATS))
texts = st.one_of(st.text(max_size=12), st.sampled_from(EDGE_TEXT))
scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), texts), inner, max_size=4),
    ),
    max_leaves=8,
)


def _maybe(right: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the documented value, sometimes any JSON value at all."""
    return st.one_of(right, right, right, json_values)


# The inputs of each title as its README documents them: (required, optional) fields.
TITLE_INPUTS: dict[str, tuple[dict, dict]] = {
    "pong": ({"dir": st.integers(-1, 1)}, {}),
    "snake": ({"turn": st.sampled_from(("up", "down", "left", "right"))}, {}),
    "arena": (
        {},
        {
            "thrust": st.booleans(),
            "turn": st.integers(-1, 1),
            "fire": st.booleans(),
            "aim": st.one_of(st.none(), st.floats(-TAU, TAU)),
            "seen": st.one_of(st.none(), st.integers(0, 2**31)),
        },
    ),
    "zombie": (
        {},
        {
            "mx": st.integers(-1, 1),
            "my": st.integers(-1, 1),
            "fire": st.booleans(),
            "aim": st.one_of(st.none(), st.floats(-TAU, TAU)),
        },
    ),
}


@st.composite
def objects(draw, required: dict, optional: dict, *, strict: bool = False) -> dict:
    """An object of these fields: all the required ones (one may go missing), some of the
    optional ones, each maybe wrong, maybe a field too many; ``strict`` keeps it right."""
    fields = dict(required)
    fields.update({k: v for k, v in optional.items() if draw(st.booleans())})
    if not strict and fields and draw(st.integers(0, 9)) == 0:
        del fields[draw(st.sampled_from(sorted(fields)))]
    out = {k: draw(v if strict else _maybe(v)) for k, v in fields.items()}
    if not strict and draw(st.integers(0, 7)) == 0:
        out[draw(st.one_of(st.sampled_from(KEYS), texts))] = draw(json_values)
    return out


def title_input(name: str, *, strict: bool = False) -> st.SearchStrategy:
    required, optional = TITLE_INPUTS[name]
    return objects(required, optional, strict=strict)


any_title_input = st.one_of(*(title_input(name) for name in TITLE_INPUTS), json_values)

# The client messages of docs/protocol.md: the documented value of each field.
MESSAGE_FIELDS: dict[str, tuple[dict, dict]] = {
    "input": (
        {"seq": st.one_of(st.integers(0, MAX_SEQ), integers), "input": any_title_input},
        {"ack": st.booleans(), "at": st.one_of(st.integers(0, MAX_SEQ), integers)},
    ),
    "ping": ({"t": st.one_of(floats, integers)}, {}),
    "pong": ({"id": st.one_of(st.integers(0, MAX_SEQ), integers)}, {}),
    "leave": ({}, {}),
    "resync": ({}, {}),
}


@st.composite
def messages(draw) -> object:
    """A client message (or, rarely, any JSON value in its place)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(json_values)
    kind = draw(st.sampled_from(sorted(MESSAGE_FIELDS)))
    body = draw(objects(*MESSAGE_FIELDS[kind]))
    head = {"type": draw(_maybe(st.just(kind)))}
    if draw(st.booleans()):
        head["v"] = draw(_maybe(st.just(protocol.PROTOCOL_VERSION)))
    return {**head, **body}


def dumps(value: object, *, ascii_only: bool = False) -> str:
    """JSON text as a client may write it: a socket's text frame is UTF-8, so a lone
    surrogate can only arrive escaped."""
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    try:
        text.encode()
    except UnicodeEncodeError:
        text = json.dumps(value, allow_nan=True)
    return text


# Fragments a mutation splices in: what breaks parsers.
SPLICES = ("NaN", "Infinity", "-Infinity", "1e999", "-0", "\\u0000", "\\ud800", '"', "\\",
           "{", "}", "[", "]", ",", ":", "null", "true", "1" * 400, "[" * 2000, "\x00",
           "é")  # fmt: skip


@st.composite
def frames(draw) -> str | None:
    """One text frame (None: a binary frame)."""
    shape = draw(st.integers(0, 39))
    if shape == 0:
        return None
    if shape == 1:  # deep nesting, near and past the parser's recursion limit
        depth = draw(st.sampled_from((10, 500, 990, 1000, 5000)))
        return '{"type":"input","seq":1,"input":' + "[" * depth + "]" * depth + "}"
    if shape == 2:  # at and past the size cap, in one-byte and multi-byte characters
        size = protocol_cap() + draw(st.sampled_from((-8, 0, 1, 2000)))
        filler = draw(st.sampled_from(("x", "é", "💥")))
        return dumps({"type": "ping", "t": 1, "pad": filler * (size // len(filler.encode()))})
    text = dumps(draw(messages()), ascii_only=draw(st.booleans()))
    return draw(st.sampled_from((text, text, text, text.replace(" ", ""), " " + text + "\n")))


# A seeded generator for the cheap variants: one draw, not one per call (st.randoms is).
seeds = st.integers(0, 2**32 - 1).map(random.Random)


def protocol_cap() -> int:
    from django.conf import settings

    return settings.GATEWAY_MAX_MESSAGE_BYTES


def mutants(text: str | None, rng: random.Random, count: int) -> list[str | None]:
    """``count`` byte-level variants of one frame: cut, byte flipped, fragment spliced,
    token duplicated. Always valid UTF-8 (the socket guarantees it)."""
    if text is None:
        return [None] * count
    out = []
    for _ in range(count):
        s = text
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(s))
            op = rng.randint(0, 4)
            if op == 0:
                s = s[:at]
            elif op == 1:
                s = s[:at] + rng.choice(SPLICES) + s[at:]
            elif op == 2 and s:
                s = s[:at] + s[at + 1 :]
            elif op == 3 and s:
                s = s[:at] + chr(rng.randint(0, 0x7F)) + s[at + 1 :]
            else:
                s = s[:at] + s[rng.randint(0, len(s)) : rng.randint(0, len(s))] + s[at:]
        out.append(s.encode("utf-8", "replace").decode())
    return out


def documented_socket_errors() -> set[str]:
    """The error codes docs/protocol.md lists for the socket (its "Error codes" table)."""
    doc = (ROOT / "docs" / "protocol.md").read_text()
    table = doc.split("### Error codes", 1)[1].split("###", 1)[0]
    return {code for line in table.splitlines() if line.startswith("| `")
            for code in re.findall(r"`([a-z_]+)`", line.split("|")[1])}  # fmt: skip
