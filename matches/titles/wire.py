"""Wire schemas of state messages: how a message flattens to channels of ints and back.

A title's ``wire.py`` describes its ``snapshot()`` with the helpers at the end of this module;
the frames themselves (keyframes, deltas, the encoder and decoder) are
``matches.titles.wirecodec``'s. A schema is plain JSON-able data (the browser's ``codec.js``
reads the same schema from the ``welcome``), a tree of nodes ``{"k": kind, ...}``:

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

Flattening gives *channels*, lists of quantised ints: the scalars outside any ``rows`` in
one, each ``rows`` list in its own (rows inside rows: one per element), in depth-first order;
``json`` values go to blobs, constants to one JSON object. Building back from them gives
exactly the quantised message: for fields the title already rounds to 1/scale, the message.
Pure Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


class WireError(ValueError):
    """A frame that does not decode: a delta without its base, or corrupt bytes."""


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


def _holds(node: dict, kind: str) -> bool:
    """Whether a node or one below it is of ``kind``."""
    if node["k"] == kind:
        return True
    if node["k"] == "struct":
        return any(_holds(f[1], kind) for f in node["f"])
    if node["k"] in ("tuple", "rows"):
        subs = node["of"] if node["k"] == "tuple" else [node["of"]]
        return any(_holds(sub, kind) for sub in subs)
    return False


def _plain(node: dict) -> bool:
    """Whether a rows element is leaves of a fixed width: no optional field, rows or blob."""
    if node["k"] == "struct":
        return all(len(f) == 2 and _plain(f[1]) for f in node["f"])
    if node["k"] == "tuple":
        return all(_plain(sub) for sub in node["of"])
    return node["k"] not in ("rows", "json")


# A position in a channel as ``build`` is generated: a variable's name (None: 0) and an offset.
_Pos = tuple[str | None, int]

# A flattened message: each channel's rows spec (None: the root's) and values, the blobs, the
# constants.
_Flat = tuple[list[_Rows | None], list[list[int]], list[bytes], dict[str, Any]]


def _scaled(var: str, scale: int) -> str:
    # round(x) for a float x is x.__round__(), which the method call reaches without round()'s
    # lookup of it (half the cost of a leaf).
    return var if scale == 1 else f"({var} * {scale}).__round__()"


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
        pending: list[str] = []
        self._gen(root, "v0", "c0", "", 1, pending)
        self._flush("c0", pending, 1)
        src = "\n".join(["def flatten(v0):", " c0 = []", " specs, chans = [None], [c0]",
                          " blobs, consts = [], {}", *self._lines,
                          " return specs, chans, blobs, consts"])  # fmt: skip
        exec(src, self._env)  # our own schema, compiled: flattening is the per-tick hot path
        self.flatten = self._env["flatten"]
        self.build = self._gen_build(root)

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
    #
    # A channel's leaves are gathered (``pending``) and added with one ``chan += (...)`` where
    # the block ends or before a block that adds to it, not one statement per field.

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
            return [_scaled(var, node["s"])]
        if kind == "bool":
            return [f"(1 if {var} else 0)"]
        if kind == "opt":
            q = _scaled(var, node["s"])
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

    def _flush(self, chan: str, pending: list[str], depth: int) -> None:
        if pending:
            self._lines.append(f"{' ' * depth}{chan} += ({', '.join(pending)},)")
            pending.clear()

    def _gen(self, node: dict, var: str, chan: str, path: str, depth: int,
             pending: list[str]) -> None:  # fmt: skip
        pad, kind, emit = " " * depth, node["k"], self._lines.append
        leaves = self._leaves(node, var)
        if leaves is not None:
            pending += leaves
        elif kind == "struct":
            for key, sub, *opt in node["f"]:
                sub_path = f"{path}.{key}" if path else key
                if sub["k"] in ("const", "tick", "json") or (
                    not opt and sub["k"] in ("num", "bool", "enum")
                ):  # used once: no variable of its own
                    self._gen(sub, f"{var}[{key!r}]", chan, sub_path, depth, pending)
                    continue
                inner = self._name("v")
                if opt:
                    emit(f"{pad}{inner} = {var}.get({key!r})")
                    pending.append(f"(0 if {inner} is None else 1)")
                    if _width(sub):  # the block adds to this channel: what comes before first
                        self._flush(chan, pending, depth)
                    emit(f"{pad}if {inner} is not None:")
                    inside: list[str] = []
                    self._gen(sub, inner, chan, sub_path, depth + 1, inside)
                    self._flush(chan, inside, depth + 1)
                else:
                    emit(f"{pad}{inner} = {var}[{key!r}]")
                    self._gen(sub, inner, chan, sub_path, depth, pending)
        elif kind == "tuple":
            for i, sub in enumerate(node["of"]):
                self._gen(sub, f"{var}[{i}]", chan, path, depth, pending)
        elif kind == "rows":
            spec = self._name("_r", self._rows[id(node)])
            own, item = self._name("c"), self._name("v")
            elem = self._leaves(node["of"], item)
            if elem == [item]:  # ints as they are: a copy
                emit(f"{pad}{own} = list({var})")
            elif elem is not None and len(elem) == 1:
                emit(f"{pad}{own} = [{elem[0]} for {item} in {var}]")
            else:
                emit(f"{pad}{own} = []")
            emit(f"{pad}specs.append({spec}); chans.append({own})")
            if elem is None or len(elem) > 1:
                # A loop adding each row's tuple: cheaper than a comprehension over the tuples.
                emit(f"{pad}for {item} in {var}:")
                inside = []
                self._gen(node["of"], item, own, path, depth + 1, inside)
                self._flush(own, inside, depth + 1)
        elif kind == "json":
            emit(f"{pad}blobs.append(_dumps({var}))")
        elif kind == "const":
            emit(f"{pad}consts[{path!r}] = {var}")

    # -- build back: generated too, as ``build(chans, blobs, consts, tick)``
    #
    # Every client decodes every frame, so ``build`` is straight-line Python as well: values
    # are read at offsets the schema fixes (``c0[3]``), a position variable only after an
    # optional field or within a ``rows`` loop; rows of plain leaves are one comprehension over
    # the channel's columns. It reads exactly what ``_Cursor`` reads: a read past a channel's
    # end (IndexError), a channel or blob too few (IndexError) or an enum index out of range
    # (KeyError) is its WireError. ``_Cursor`` remains the reference walk (``_specs_of``).

    def _gen_build(self, root: dict) -> Any:
        self._lines = []
        self._chan_at: _Pos = (None, 1)  # the next channel's index
        self._blob_at: _Pos = (None, 0)  # the next blob's index
        expr, _ = self._bget(root, "c0", (None, 0), "", 2, False)
        src = "\n".join(["def build(chans, blobs, consts, tick):", " try:", "  c0 = chans[0]",
                          *self._lines, f"  return {expr}", " except (IndexError, KeyError):",
                          "  raise WireError('fewer values than the schema needs')"])  # fmt: skip
        self._env["WireError"] = WireError
        exec(src, self._env)  # as flatten: our own schema, compiled
        return self._env["build"]

    @staticmethod
    def _at(pos: _Pos) -> str:
        var, off = pos
        return str(off) if var is None else (f"{var} + {off}" if off else var)

    def _read(self, chan: str | list[str], pos: _Pos) -> str:
        """The value at ``pos``: a comprehension's column variable, or the channel indexed."""
        if isinstance(chan, list):
            return chan[pos[1]]
        return f"{chan}[{self._at(pos)}]"

    def _next(self, which: str) -> str:
        """The index expression of the next channel or blob, and the count moved on."""
        attr = "_chan_at" if which == "ci" else "_blob_at"
        var, off = getattr(self, attr)
        setattr(self, attr, (var, off + 1))
        return self._at((var, off))

    def _counter_var(self, which: str, depth: int) -> None:
        """Before and at the end of a loop body or optional field that takes channels (blobs):
        their index as a variable, since how many were taken is known only when running."""
        attr = "_chan_at" if which == "ci" else "_blob_at"
        var, off = getattr(self, attr)
        if var is None:
            self._lines.append(f"{' ' * depth}{which} = {off}")
        elif off:
            self._lines.append(f"{' ' * depth}{which} += {off}")
        setattr(self, attr, (which, 0))

    def _bget(self, node: dict, chan: str | list[str], pos: _Pos, path: str,
              depth: int, in_range: bool) -> tuple[str, _Pos]:  # fmt: skip
        """The expression of a node's value read from ``pos`` on and the position after it,
        emitting what must come first. ``in_range``: every read is known to be in the channel."""
        pad, kind, emit = " " * depth, node["k"], self._lines.append
        var, off = pos
        if kind == "num":
            q, s = self._read(chan, pos), node["s"]
            return (q if s == 1 else f"{q} / {s!r}"), (var, off + 1)
        if kind == "bool":
            return f"({self._read(chan, pos)} != 0)", (var, off + 1)
        if kind == "enum":
            table = self._name("_e", dict(enumerate(node["of"])))
            return f"{table}[{self._read(chan, pos)}]", (var, off + 1)
        if kind == "opt":
            flag, q, s = self._read(chan, pos), self._read(chan, (var, off + 1)), node["s"]
            if not in_range:  # read even when absent, as _Cursor does: past the end is an error
                emit(f"{pad}{q}")
            return f"({q if s == 1 else f'{q} / {s!r}'} if {flag} else None)", (var, off + 2)
        if kind == "tick":
            return "tick", pos
        if kind == "const":
            return f"consts.get({path!r})", pos
        if kind == "json":
            at = self._next("bi")
            if self._blob_at[0] is None:  # a fixed index: the expression may wait
                return f"blobs[{at}]", pos
            blob = self._name("b")
            emit(f"{pad}{blob} = blobs[{at}]")
            return blob, pos
        if kind == "tuple":
            items = []
            for sub in node["of"]:
                expr, pos = self._bget(sub, chan, pos, path, depth, in_range)
                items.append(expr)
            return f"[{', '.join(items)}]", pos
        if kind == "struct":
            return self._bstruct(node, chan, pos, path, depth, in_range)
        if kind == "rows":
            return self._brows(node, path, depth), pos
        raise WireError(f"unknown wire node {kind!r}")

    def _bstruct(self, node: dict, chan: str | list[str], pos: _Pos, path: str, depth: int,
                 in_range: bool) -> tuple[str, _Pos]:  # fmt: skip
        pad, emit = " " * depth, self._lines.append
        fields: list[str] = []
        out = None  # the dict's variable, from the first optional field on
        for key, sub, *opt in node["f"]:
            sub_path = f"{path}.{key}" if path else key
            if not opt:
                expr, pos = self._bget(sub, chan, pos, sub_path, depth, in_range)
                if out is None:
                    fields.append(f"{key!r}: {expr}")
                else:
                    emit(f"{pad}{out}[{key!r}] = {expr}")
                continue
            if out is None:
                out = self._name("d")
                emit(f"{pad}{out} = {{{', '.join(fields)}}}")
            flag = self._read(chan, pos)
            pos = (pos[0], pos[1] + 1)
            after = None
            if _width(sub):  # the field moves the position by as much as it holds
                after = self._name("p")
                emit(f"{pad}{after} = {self._at(pos)}")
                pos = (after, 0)
            takes = [w for w, kind in (("ci", "rows"), ("bi", "json")) if _holds(sub, kind)]
            for which in takes:  # what comes after counts on from a variable
                self._counter_var(which, depth)
            emit(f"{pad}if {flag}:")
            expr, end = self._bget(sub, chan, pos, sub_path, depth + 1, in_range)
            emit(f"{pad} {out}[{key!r}] = {expr}")
            if after is not None and end != pos:
                emit(f"{pad} {after} = {self._at(end)}")
            for which in takes:
                self._counter_var(which, depth + 1)
        return (out if out is not None else f"{{{', '.join(fields)}}}"), pos

    def _brows(self, node: dict, path: str, depth: int) -> str:
        pad, emit, of = " " * depth, self._lines.append, node["of"]
        own, out = self._name("c"), self._name("l")
        emit(f"{pad}{own} = chans[{self._next('ci')}]")
        width = _width(of)
        if not width:  # _Cursor's count of such rows: none
            emit(f"{pad}{out} = []")
        elif _plain(of):
            # Fixed-width rows: one comprehension over the columns; zip stops at the last
            # whole row, as len // width does.
            cols = [self._name("q") for _ in range(width)]
            expr, _ = self._bget(of, cols, (None, 0), path, depth, True)
            if width == 1:
                source = own
            else:
                slices = ", ".join(f"{own}[{k}::{width}]" for k in range(width))
                source = f"zip({slices})"
            if expr == cols[0] and width == 1:
                emit(f"{pad}{out} = {own}[:]")  # ints as they are: a copy, not the channel
            else:
                emit(f"{pad}{out} = [{expr} for {', '.join(cols)} in {source}]")
        else:
            # Rows with optional fields, nested rows or blobs: read on, row by row.
            at = self._name("p")
            emit(f"{pad}{out} = []")
            emit(f"{pad}{at} = 0")
            takes = [w for w, kind in (("ci", "rows"), ("bi", "json")) if _holds(of, kind)]
            for which in takes:
                self._counter_var(which, depth)
            emit(f"{pad}for _ in range(len({own}) // {width}):")
            expr, end = self._bget(of, own, (at, 0), path, depth + 1, False)
            emit(f"{pad} {out}.append({expr})")
            emit(f"{pad} {at} = {self._at(end)}")
            for which in takes:
                self._counter_var(which, depth + 1)
        return out


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
