"""Compact state frames: one generic codec driven by a title's wire schema (its ``wire.py``).

A schema is plain JSON-able data (the browser's ``codec.js`` reads the same schema from the
``welcome``), a tree of nodes ``{"k": kind, ...}``:

    num   {"s": scale}          a number sent as round(value * scale); scale 1 gives an int
    opt   {"s": scale}          a number or None
    bool                        true or false
    enum  {"of": [values]}      one of a few JSON values (an index is sent)
    const                       the same all match long: travels in keyframes only
    tick                        the message's tick (not sent again)
    json                        any JSON value, sent again only when it changes
    struct {"f": [[key, node]]} an object; ``[key, node, 1]``: the key may be missing
    tuple  {"of": [node]}       a list of fixed length
    rows   {"of": node}         a list; ``"seq"`` makes it matched rather than index-aligned

Encoding flattens a message into *channels*, lists of quantised ints: the scalars outside
any ``rows`` in one, each ``rows`` list in its own (rows inside rows: one per element), in
depth-first order; ``json`` values go to blobs, constants to one JSON object. A keyframe
sends them all; a delta sends, per channel, only what changed against the previous frame:
index-aligned channels as a change mask and zigzag varint differences, ``seq`` channels as
runs of rows copied from the previous frame (predicted by ``move``: ``x += vx / div``,
matched on the ``key`` columns) with residuals, and literal rows. The result decodes to
exactly the quantised message: for fields the title already rounds to 1/scale, the message.

Frame layout (varints are LEB128, zigzag for signed values): kind byte (1 keyframe, 2
delta), frame number, tick, then the body. Pure Python, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

KEYFRAME = 1
DELTA = 2
FRAME_MOD = 1 << 16  # frame numbers wrap here; a delta applies to frame number - 1 only
_SEQ_WINDOW = 16  # how many earlier rows a seq row may skip to find its match


class WireError(ValueError):
    """A frame that does not decode: a delta without its base, or corrupt bytes."""


# --- varints -------------------------------------------------------------------------------


def _put(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zig(n: int) -> int:
    return n << 1 if n >= 0 else ((-n) << 1) - 1


def _unzig(z: int) -> int:
    return (z >> 1) if not z & 1 else -((z + 1) >> 1)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        data, pos, shift, n = self.data, self.pos, 0, 0
        while True:
            if pos >= len(data):
                raise WireError("frame ends inside a number")
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                self.pos = pos
                return n
            shift += 7
            if shift > 63:
                raise WireError("number too long")

    def sint(self) -> int:
        return _unzig(self.uint())

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise WireError("frame ends inside a block")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


# --- the schema, compiled ---------------------------------------------------------------------


@dataclass
class _Rows:
    """One ``rows`` node: its element's leaf count and, for seq rows, its matching."""

    width: int
    key: tuple[int, ...] = ()
    move: tuple[tuple[int, int], ...] = ()
    div: int = 1
    seq: bool = False


def _width(node: dict) -> int:
    """Leaves a node puts in its enclosing channel (nested rows have their own)."""
    kind = node["k"]
    if kind in ("num", "bool", "enum"):
        return 1
    if kind == "opt":
        return 2
    if kind == "struct":
        return sum(_width(f[1]) + (len(f) > 2) for f in node["f"])
    if kind == "tuple":
        return sum(_width(n) for n in node["of"])
    return 0  # rows (their own channel), const, tick, json


# A flattened message: each channel's rows spec (None: the root's) and values, the blobs, the
# constants.
_Flat = tuple[list[_Rows | None], list[list[int]], list[bytes], dict[str, Any]]


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


class Schema:
    """A compiled wire schema: flattens messages to channels and builds them back."""

    def __init__(self, root: dict) -> None:
        self.root = root
        self._rows: dict[int, _Rows] = {}
        self._compile(root)
        self._env: dict[str, Any] = {"_dumps": _dumps}
        self._lines: list[str] = []
        self._names = 0
        self._gen(root, "v0", "c0", "", 1)
        src = "\n".join(["def flatten(v0):", " c0 = []", " specs, chans = [None], [c0]",
                          " blobs, consts = [], {}", *self._lines,
                          " return specs, chans, blobs, consts"])  # fmt: skip
        exec(src, self._env)  # our own schema, compiled: flattening is the per-tick hot path
        self.flatten = self._env["flatten"]

    def _compile(self, node: dict) -> None:
        kind = node["k"]
        if kind == "rows":
            seq = node.get("seq") or {}
            self._rows[id(node)] = _Rows(
                width=_width(node["of"]), key=tuple(seq.get("key", ())),
                move=tuple(tuple(m) for m in seq.get("move", ())), div=seq.get("div", 1),
                seq=bool(node.get("seq")),
            )  # fmt: skip
            self._compile(node["of"])
        elif kind == "struct":
            for f in node["f"]:
                self._compile(f[1])
        elif kind == "tuple":
            for sub in node["of"]:
                self._compile(sub)
        elif kind not in ("num", "opt", "bool", "enum", "json", "const", "tick"):
            raise ValueError(f"unknown wire node {kind!r}")

    # -- flatten: generated once per schema as straight-line Python

    def _name(self, prefix: str, value: Any = None) -> str:
        self._names += 1
        name = f"{prefix}{self._names}"
        if value is not None:
            self._env[name] = value
        return name

    def _leaves(self, node: dict, var: str) -> list[str] | None:
        """Expressions of a node's leaves, or None when it holds more than leaves."""
        kind = node["k"]
        if kind == "num":
            return [var if node["s"] == 1 else f"round({var} * {node['s']})"]
        if kind == "bool":
            return [f"(1 if {var} else 0)"]
        if kind == "opt":
            q = var if node["s"] == 1 else f"round({var} * {node['s']})"
            return [f"(0 if {var} is None else 1)", f"(0 if {var} is None else {q})"]
        if kind == "enum":
            return [f"{self._name('_e', {v: i for i, v in enumerate(node['of'])})}[{var}]"]
        if kind == "struct" and all(len(f) == 2 for f in node["f"]):
            subs = [(f"{var}[{f[0]!r}]", f[1]) for f in node["f"]]
        elif kind == "tuple":
            subs = [(f"{var}[{i}]", n) for i, n in enumerate(node["of"])]
        else:
            return None
        out: list[str] = []
        for sub_var, sub in subs:
            exprs = self._leaves(sub, sub_var)
            if exprs is None:
                return None
            out += exprs
        return out

    def _gen(self, node: dict, var: str, chan: str, path: str, depth: int) -> None:
        pad, kind, emit = " " * depth, node["k"], self._lines.append
        leaves = self._leaves(node, var)
        if leaves is not None:
            emit(f"{pad}{chan} += ({', '.join(leaves)},)")
        elif kind == "struct":
            for key, sub, *opt in node["f"]:
                sub_path = f"{path}.{key}" if path else key
                if sub["k"] in ("const", "tick", "json"):
                    self._gen(sub, f"{var}[{key!r}]", chan, sub_path, depth)
                    continue
                inner = self._name("v")
                if opt:
                    emit(f"{pad}{inner} = {var}.get({key!r})")
                    emit(f"{pad}{chan}.append(0 if {inner} is None else 1)")
                    emit(f"{pad}if {inner} is not None:")
                    self._gen(sub, inner, chan, sub_path, depth + 1)
                else:
                    emit(f"{pad}{inner} = {var}[{key!r}]")
                    self._gen(sub, inner, chan, sub_path, depth)
        elif kind == "tuple":
            for i, sub in enumerate(node["of"]):
                self._gen(sub, f"{var}[{i}]", chan, path, depth)
        elif kind == "rows":
            spec = self._name("_r", self._rows[id(node)])
            own, item = self._name("c"), self._name("v")
            elem = self._leaves(node["of"], item)
            if elem is not None:
                emit(f"{pad}{own} = [q for {item} in {var} for q in ({', '.join(elem)},)]")
                emit(f"{pad}specs.append({spec}); chans.append({own})")
            else:
                emit(f"{pad}{own} = []")
                emit(f"{pad}specs.append({spec}); chans.append({own})")
                emit(f"{pad}for {item} in {var}:")
                self._gen(node["of"], item, own, path, depth + 1)
        elif kind == "json":
            emit(f"{pad}blobs.append(_dumps({var}))")
        elif kind == "const":
            emit(f"{pad}consts[{path!r}] = {var}")

    # -- build back

    def build(self, chans: list[list[int]], blobs: list[Any], consts: dict, tick: int) -> dict:
        cursor = _Cursor(chans, blobs, consts, tick)
        return cursor.get(self.root, cursor.next_chan(), "")


class _Cursor:
    def __init__(self, chans: list[list[int]], blobs: list[Any], consts: dict, tick: int):
        self.chans, self.blobs, self.consts, self.tick = chans, blobs, consts, tick
        self.ci = 0
        self.bi = 0

    def next_chan(self) -> list:
        if self.ci >= len(self.chans):
            raise WireError("fewer channels than the schema needs")
        chan = self.chans[self.ci]
        self.ci += 1
        return [chan, 0]

    def get(self, node: dict, at: list, name: str) -> Any:
        kind = node["k"]
        if kind == "num":
            q = self._leaf(at)
            s = node["s"]
            return q if s == 1 else q / s
        if kind == "struct":
            out = {}
            for key, sub, *opt in node["f"]:
                if opt and not self._leaf(at):
                    continue
                out[key] = self.get(sub, at, f"{name}.{key}" if name else key)
            return out
        if kind == "rows":
            own = self.next_chan()
            width = _width(node["of"])
            count = len(own[0]) // width if width else 0
            return [self.get(node["of"], own, name) for _ in range(count)]
        if kind == "bool":
            return bool(self._leaf(at))
        if kind == "tuple":
            return [self.get(sub, at, name) for sub in node["of"]]
        if kind == "opt":
            present, q = self._leaf(at), self._leaf(at)
            s = node["s"]
            return None if not present else (q if s == 1 else q / s)
        if kind == "enum":
            index = self._leaf(at)
            if not 0 <= index < len(node["of"]):
                raise WireError(f"enum index {index} out of range")
            return node["of"][index]
        if kind == "json":
            if self.bi >= len(self.blobs):
                raise WireError("fewer blobs than the schema needs")
            self.bi += 1
            return self.blobs[self.bi - 1]
        if kind == "const":
            return self.consts.get(name)
        if kind == "tick":
            return self.tick
        raise WireError(f"unknown wire node {kind!r}")

    @staticmethod
    def _leaf(at: list) -> int:
        chan, i = at
        if i >= len(chan):
            raise WireError("a channel is shorter than its rows")
        at[1] = i + 1
        return chan[i]


# --- channel coding ----------------------------------------------------------------------------


def _raw(out: bytearray, values: list[int]) -> None:
    _put(out, len(values))
    for v in values:
        _put(out, _zig(v))


def _read_raw(r: _Reader) -> list[int]:
    return [r.sint() for _ in range(r.uint())]


def _aligned(out: bytearray, old: list[int], new: list[int]) -> None:
    """0: unchanged; odd: raw values follow; 2c: c values changed, mask then differences."""
    if len(old) != len(new):
        _put(out, 1)
        _raw(out, new)
        return
    if old == new:
        out.append(0)
        return
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    _put(out, len(changed) << 1)
    if not changed:
        return
    mask = bytearray((len(new) + 7) >> 3)
    for i in changed:
        mask[i >> 3] |= 1 << (i & 7)
    out += mask
    for i in changed:
        d = new[i] - old[i]
        z = d << 1 if d >= 0 else ((-d) << 1) - 1
        if z < 0x80:
            out.append(z)
        else:
            _put(out, z)


def _read_aligned(r: _Reader, old: list[int]) -> list[int]:
    head = r.uint()
    if head & 1:
        return _read_raw(r)
    count = head >> 1
    if not count:
        return old
    new = list(old)
    mask = r.take((len(old) + 7) >> 3)
    seen = 0
    for i in range(len(old)):
        if mask[i >> 3] & (1 << (i & 7)):
            new[i] += r.sint()
            seen += 1
    if seen != count:
        raise WireError("a change mask does not match its count")
    return new


def _predicted(spec: _Rows, old: list[int]) -> list[int]:
    """The previous frame's rows moved one tick on: what this frame's copies start from."""
    if not spec.move:
        return old
    pred, w, div = list(old), spec.width, spec.div
    half = div >> 1
    for x, vx in spec.move:
        pred[x::w] = [p + (v + half) // div for p, v in zip(old[x::w], old[vx::w], strict=True)]
    return pred


def _run(new: list[int], j: int, pred: list[int], m: int, w: int, most: int) -> int:
    """How many rows from row j of ``new`` equal those from row m of ``pred`` (at least 1)."""
    if new[j * w : (j + most) * w] == pred[m * w : (m + most) * w]:
        return most
    lo, hi = 1, most - 1  # rows lo match; hi is the most that might
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if new[j * w : (j + mid) * w] == pred[m * w : (m + mid) * w]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _seq(out: bytearray, spec: _Rows, old: list[int], new: list[int]) -> None:
    """Rows matched to the previous frame's: runs of copies (rows predicted by ``move``, their
    residuals coded as one aligned block) and literal rows."""
    w = spec.width
    pred = _predicted(spec, old)
    exact = len(spec.key) in (0, w)
    key = spec.key
    n_old, n_new = len(pred) // w if w else 0, len(new) // w if w else 0
    ops: list[list[int]] = []  # [count, literal, skip]
    base: list[int] = []
    copied: list[int] = []
    literal: list[int] = []
    nxt = j = 0
    while j < n_new:
        row = new[j * w : (j + 1) * w]
        found = -1
        for m in range(nxt, min(n_old, nxt + _SEQ_WINDOW)):
            if (pred[m * w : (m + 1) * w] == row if exact
                    else all(pred[m * w + k] == row[k] for k in key)):  # fmt: skip
                found = m
                break
        if found < 0:
            if ops and ops[-1][1]:
                ops[-1][0] += 1
            else:
                ops.append([1, 1, 0])
            literal += row
            j += 1
            continue
        count = _run(new, j, pred, found, w, min(n_new - j, n_old - found)) if exact else 1
        if ops and not ops[-1][1] and found == nxt:
            ops[-1][0] += count
        else:
            ops.append([count, 0, found - nxt])
        base += pred[found * w : (found + count) * w]
        copied += new[j * w : (j + count) * w]
        nxt, j = found + count, j + count
    _put(out, n_new)
    _put(out, len(ops))
    for count, lit, skip in ops:
        _put(out, count << 1 | lit)
        if not lit:
            _put(out, skip)
    _aligned(out, base, copied)
    for v in literal:
        _put(out, _zig(v))


def _read_seq(r: _Reader, spec: _Rows, old: list[int]) -> list[int]:
    w = spec.width
    pred = _predicted(spec, old)
    n_old = len(pred) // w if w else 0
    rows = r.uint()
    plan: list[int] = []  # per new row: its old row, or -1 for a literal
    nxt = 0
    for _ in range(r.uint()):
        head = r.uint()
        count, lit = head >> 1, head & 1
        if lit:
            plan += [-1] * count
            continue
        nxt += r.uint()
        if nxt + count > n_old:
            raise WireError("a copy run reaches past the previous rows")
        plan += range(nxt, nxt + count)
        nxt += count
    if len(plan) != rows:
        raise WireError("runs do not add up to the row count")
    base = [v for i in plan if i >= 0 for v in pred[i * w : (i + 1) * w]]
    copied = _read_aligned(r, base)
    if len(copied) != len(base):
        raise WireError("residuals do not match the copied rows")
    out: list[int] = []
    ci = 0
    for i in plan:
        if i >= 0:
            out += copied[ci : ci + w]
            ci += w
        else:
            out += [r.sint() for _ in range(w)]
    return out


# --- encoder and decoder -----------------------------------------------------------------------


class Encoder:
    """One per match and runner: each ``encode`` is a keyframe or a delta against the last."""

    def __init__(self, schema: Schema, *, keyframe_every: int) -> None:
        self.schema = schema
        self.keyframe_every = keyframe_every
        self.frame = 0
        self._last: _Flat | None = None
        self._since_key = 0

    def request_keyframe(self) -> None:
        self._last = None

    def encode(self, message: dict) -> tuple[bytes, bool]:
        """The frame of ``message`` and whether it is a keyframe."""
        flat = specs, chans, blobs, consts = self.schema.flatten(message)
        last = self._last
        self.frame = (self.frame + 1) % FRAME_MOD
        # The same rows specs in the same order (identity first): the same channel layout.
        key = (
            last is None
            or self._since_key + 1 >= self.keyframe_every
            or specs != last[0]
            or len(blobs) != len(last[2])
            or consts != last[3]
        )
        out = bytearray((KEYFRAME if key else DELTA,))
        _put(out, self.frame)
        _put(out, message["tick"])
        if key:
            blob = _dumps(consts)
            _put(out, len(blob))
            out += blob
            _put(out, len(chans))
            for values in chans:
                _raw(out, values)
            for blob in blobs:
                _put(out, len(blob))
                out += blob
            self._since_key = 0
        else:
            for spec, old, new in zip(specs, last[1], chans, strict=True):
                if spec is not None and spec.seq:
                    _seq(out, spec, old, new)
                elif old == new:
                    out.append(0)
                else:
                    _aligned(out, old, new)
            for old, new in zip(last[2], blobs, strict=True):
                if old == new:
                    out.append(0)
                else:
                    _put(out, len(new) + 1)
                    out += new
            self._since_key += 1
        self._last = flat
        return bytes(out), key


class Decoder:
    """The client's side: frames back to messages; a delta needs the frame before it."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.frame: int | None = None
        self._chans: list[list[int]] = []
        self._specs: list[_Rows | None] = []
        self._blobs: list[bytes] = []
        self._consts: dict = {}

    def decode(self, data: bytes) -> dict:
        r = _Reader(data)
        kind = r.take(1)[0]
        frame, tick = r.uint(), r.uint()
        if kind == KEYFRAME:
            consts = json.loads(r.take(r.uint()))
            chans = [_read_raw(r) for _ in range(r.uint())]
            blobs_raw = None
        elif kind == DELTA:
            if self.frame is None or frame != (self.frame + 1) % FRAME_MOD:
                raise WireError(f"frame {frame} is not the one after {self.frame}: resync")
            consts, chans, blobs_raw = self._consts, [], []
            for spec, old in zip(self._specs, self._chans, strict=True):
                if spec is not None and spec.seq:
                    chans.append(_read_seq(r, spec, old))
                else:
                    chans.append(_read_aligned(r, old))
        else:
            raise WireError(f"unknown frame kind {kind}")
        specs = self._specs_of(chans, consts, tick) if kind == KEYFRAME else self._specs
        if blobs_raw is None:
            blobs = [r.take(r.uint()) for _ in range(self._blob_count)]
        else:
            blobs = []
            for old in self._blobs:
                head = r.uint()
                blobs.append(old if not head else r.take(head - 1))
        if r.pos != len(data):
            raise WireError("bytes left over after the frame")
        message = self.schema.build(chans, [json.loads(b) for b in blobs], consts, tick)
        self.frame, self._chans, self._specs = frame, chans, specs
        self._blobs, self._consts = blobs, consts
        return message

    def _specs_of(self, chans: list[list[int]], consts: dict, tick: int) -> list[_Rows | None]:
        """Each channel's rows spec, found by walking the schema over the channels (the rows
        of nested channels depend on the counts of their parents)."""
        specs: list[_Rows | None] = [None]
        blobs = [0]
        schema = self.schema

        class _Spy(_Cursor):
            def get(self, node, at, name):
                if node["k"] == "rows":
                    specs.append(schema._rows[id(node)])
                if node["k"] == "json":
                    blobs[0] += 1
                    return None
                return super().get(node, at, name)

        spy = _Spy(chans, [], consts, tick)
        spy.get(schema.root, spy.next_chan(), "")
        self._blob_count = blobs[0]
        return specs


# --- building schemas (a title's wire.py) --------------------------------------------------------

INT = {"k": "num", "s": 1}
BOOL = {"k": "bool"}
CONST = {"k": "const"}
TICK = {"k": "tick"}
JSON = {"k": "json"}
OPT_INT = {"k": "opt", "s": 1}


def num(scale: int) -> dict:
    """A number quantised to 1/scale (scale 10 keeps what ``base.r1`` rounds exactly)."""
    return {"k": "num", "s": scale}


def enum(*values: Any) -> dict:
    return {"k": "enum", "of": list(values)}


def struct(*fields: tuple) -> dict:
    """``(key, node)`` fields; ``(key, node, 1)`` for a key that may be missing."""
    return {"k": "struct", "f": [list(f) for f in fields]}


def tup(*nodes: dict) -> dict:
    return {"k": "tuple", "of": list(nodes)}


def rows(of: dict, *, key: tuple[int, ...] = (), move: tuple = (), div: int = 1,
         seq: bool = False) -> dict:  # fmt: skip
    """A list of ``of``: index-aligned, or with ``seq`` matched to the previous frame's rows
    on the ``key`` columns after ``move`` ((x column, velocity column) pairs, x += v / div)."""
    node = {"k": "rows", "of": of}
    if seq:
        node["seq"] = {"key": list(key), "move": [list(m) for m in move], "div": div}
    return node
