"""Compact state frames: keyframes and deltas of the channels a wire schema flattens a
message into (``matches.titles.wire``); one ``Encoder`` per match and runner, one
``Decoder`` per client (the browser's is ``codec.js``).

A keyframe sends every channel, blob and the constants; a delta sends, per channel, only what
changed against the previous frame: index-aligned channels as a change mask and zigzag
varint differences, ``seq`` channels as runs of rows copied from the previous frame
(predicted by ``move``: ``x += vx / div``, matched on the ``key`` columns) with residuals,
and literal rows. Frame layout (varints are LEB128, zigzag for signed values): kind byte (1
keyframe, 2 delta), frame number, tick, then the body (docs/protocol.md, "Compact states").
Pure Python, no I/O.
"""

from __future__ import annotations

import json

from matches.titles.wire import Schema, WireError, _Cursor, _dumps, _Flat, _Rows

KEYFRAME = 1
DELTA = 2
FRAME_MOD = 1 << 16  # frame numbers wrap here; a delta applies to frame number - 1 only
_SEQ_WINDOW = 16  # how many earlier rows a seq row may skip to find its match


# --- varints -------------------------------------------------------------------------------


def _put(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _put_zigs(out: bytearray, values: list[int]) -> None:
    """Each value zigzag coded (0, -1, 1, -2, ... as 0, 1, 2, 3, ...), then ``_put``, inline."""
    for v in values:
        z = v << 1 if v >= 0 else ((-v) << 1) - 1
        while z > 0x7F:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        out.append(z)


def _unzig(z: int) -> int:
    return (z >> 1) if not z & 1 else -((z + 1) >> 1)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x80:  # one byte: most are
            self.pos = pos + 1
            return data[pos]
        shift = n = 0
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


# --- channel coding ----------------------------------------------------------------------------


def _raw(out: bytearray, values: list[int]) -> None:
    _put(out, len(values))
    _put_zigs(out, values)


def _varint_tail(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """A varint whose first byte ``first`` (before ``pos``) has more after it: its value and
    the position after it. IndexError at the end of ``data``."""
    n, shift = first & 0x7F, 7
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, pos
        shift += 7
        if shift > 63:
            raise WireError("number too long")


def _read_zigs(r: _Reader, count: int) -> list[int]:
    """``count`` zigzag varints, read inline (most are one byte): what ``sint`` reads."""
    data, pos = r.data, r.pos
    out: list[int] = []
    append = out.append
    try:
        for _ in range(count):
            z = data[pos]
            pos += 1
            if z > 0x7F:
                z, pos = _varint_tail(data, pos, z)
            append((z >> 1) ^ -(z & 1))  # _unzig without the call
    except IndexError:
        raise WireError("frame ends inside a number") from None
    r.pos = pos
    return out


def _read_raw(r: _Reader) -> list[int]:
    return _read_zigs(r, r.uint())


def _aligned(out: bytearray, old: list[int], new: list[int]) -> None:
    """0: unchanged; odd: raw values follow; 2c: c values changed, mask then differences."""
    n = len(new)
    if len(old) != n:
        _put(out, 1)
        _raw(out, new)
        return
    if old == new:
        out.append(0)
        return
    # One pass, by index (zip and enumerate cost more here); the mask as an int, its bits
    # counted at the end.
    bits = 0
    diffs = bytearray()
    for i in range(n):
        a = old[i]
        b = new[i]
        if a != b:
            bits |= 1 << i
            z = (b - a) << 1 if b >= a else ((a - b) << 1) - 1
            while z > 0x7F:
                diffs.append((z & 0x7F) | 0x80)
                z >>= 7
            diffs.append(z)
    _put(out, bits.bit_count() << 1)
    out += bits.to_bytes((n + 7) >> 3, "little")
    out += diffs


def _read_aligned(r: _Reader, old: list[int]) -> list[int]:
    head = r.uint()
    if head & 1:
        return _read_raw(r)
    count = head >> 1
    if not count:
        return old
    n = len(old)
    new = old[:]
    mask = r.take((n + 7) >> 3)
    data, pos = r.data, r.pos
    seen = 0
    try:
        # Only the mask's set bits, byte by byte (most bytes are 0): not a test per value.
        for j in range(len(mask)):
            byte = mask[j]
            if not byte:
                continue
            at = j << 3
            for k in _BITS[byte]:
                i = at + k
                if i >= n:  # bits past the last value mean nothing
                    break
                z = data[pos]
                pos += 1
                if z > 0x7F:
                    z, pos = _varint_tail(data, pos, z)
                new[i] += (z >> 1) ^ -(z & 1)
                seen += 1
    except IndexError:
        raise WireError("frame ends inside a number") from None
    r.pos = pos
    if seen != count:
        raise WireError("a change mask does not match its count")
    return new


_BITS = [tuple(k for k in range(8) if byte >> k & 1) for byte in range(256)]  # set bits


def _predicted(spec: _Rows, old: list[int]) -> list[int]:
    """The previous frame's rows moved one tick on: what this frame's copies start from."""
    if not spec.move:
        return old
    pred, w, div = old[:], spec.width, spec.div
    half = div >> 1
    for x, vx in spec.move:
        to_v = vx - x
        for i in range(x, len(old), w):  # by index: cheaper than slices, zip and a comprehension
            pred[i] = old[i] + (old[i + to_v] + half) // div
    return pred


# A seq channel's runs are coded as ints: per op, count << 1 | 1 for literal rows, count << 1
# and then the skip for a copy run. Copy runs are maximal, so a copy right after another skips
# rows: two copies never make one run.


def _find_row(pred: list[int], row: list[int], lo: int, w: int) -> int:
    """The first of the ``_SEQ_WINDOW`` rows of ``pred`` from row ``lo`` equal to ``row``, or -1."""
    start, end = lo * w, (lo + _SEQ_WINDOW) * w
    for c in range(w):  # a value absent from its column rules out every row, without tuples
        if row[c] not in pred[start + c : end : w]:
            return -1
    window = list(zip(*[iter(pred[start:end])] * w))  # noqa: B905 - whole rows; strict= costs
    row_t = tuple(row)
    return lo + window.index(row_t) if row_t in window else -1


def _match_rows(pred: list[int], new: list[int], w: int) -> tuple[list[int], int, list[int]]:
    """Runs matching whole rows: the codes, the number of runs and the literal values. Rows are
    compared as slices of the flat lists (as tuples only in a window ``_find_row`` searches)."""
    n_old, n_new = len(pred) // w, len(new) // w
    codes: list[int] = []
    ops = lits = 0
    literal: list[int] = []
    nxt = j = 0
    while j < n_new:
        row = new[j * w : (j + 1) * w]
        if nxt < n_old and pred[nxt * w : (nxt + 1) * w] == row:
            found = nxt
        else:
            found = _find_row(pred, row, nxt, w)
        if found < 0:
            lits += 1
            literal += row
            j += 1
            continue
        if lits:
            codes.append(lits << 1 | 1)
            ops, lits = ops + 1, 0
        run = min(n_new - j, n_old - found)
        a, b = new[j * w : (j + run) * w], pred[found * w : (found + run) * w]
        if a != b:  # the run ends at the first row with a differing value
            k = w
            while a[k] == b[k]:
                k += 1
            run = k // w
        codes += (run << 1, found - nxt)
        ops += 1
        nxt, j = found + run, j + run
    if lits:
        codes.append(lits << 1 | 1)
        ops += 1
    return codes, ops, literal


def _match_keys(
    pred: list[int], new: list[int], w: int, kp: list, kn: list
) -> tuple[list[int], int, list[int], list[int], list[int]]:
    """Runs matching rows on their keys (``kp``, ``kn``): the codes, the number of runs, the
    literal values and the copies' predicted and actual values (their residuals)."""
    n_old, n_new = len(kp), len(kn)
    codes: list[int] = []
    ops = lits = 0
    literal: list[int] = []
    base: list[int] = []
    copied: list[int] = []
    nxt = j = 0
    while j < n_new:
        row = kn[j]
        if nxt < n_old and kp[nxt] == row:
            found = nxt
        else:
            window = kp[nxt : nxt + _SEQ_WINDOW]
            found = nxt + window.index(row) if row in window else -1
        if found < 0:
            lits += 1
            literal += new[j * w : (j + 1) * w]
            j += 1
            continue
        if lits:
            codes.append(lits << 1 | 1)
            ops, lits = ops + 1, 0
        run = min(n_new - j, n_old - found)
        if kn[j : j + run] != kp[found : found + run]:
            k = 1
            while kn[j + k] == kp[found + k]:
                k += 1
            run = k
        codes += (run << 1, found - nxt)
        ops += 1
        base += pred[found * w : (found + run) * w]
        copied += new[j * w : (j + run) * w]
        nxt, j = found + run, j + run
    if lits:
        codes.append(lits << 1 | 1)
        ops += 1
    return codes, ops, literal, base, copied


def _one_run(out: bytearray, n: int) -> None:
    """The row count and runs of ``n`` rows copied in order: one run, or none without rows."""
    if n < 64:  # every varint one byte
        out += bytes((n, 1, n << 1, 0)) if n else b"\x00\x00"
        return
    _put(out, n)
    out.append(1)
    _put(out, n << 1)
    out.append(0)


def _keys(flat: list[int], w: int, key: tuple[int, ...]) -> list:
    """Each row's key columns: an int per row for one column, else a tuple."""
    if len(key) == 1:
        return flat[key[0] :: w]
    return list(zip(*[flat[k::w] for k in key]))  # noqa: B905 - as long; strict= costs


def _seq(out: bytearray, spec: _Rows, old: list[int], new: list[int]) -> None:
    """Rows matched to the previous frame's: runs of copies (rows predicted by ``move``, their
    residuals coded as one aligned block) and literal rows. A row matches the first of the
    next ``_SEQ_WINDOW`` rows not yet copied with the same key (the whole row when the key is
    none or all its columns); a run goes on while the rows match."""
    w = spec.width
    pred = _predicted(spec, old) if spec.move else old
    n_new = len(new) // w if w else 0
    if pred == new:  # every row as predicted (or none): one copy run without residuals
        _one_run(out, n_new)
        out.append(0)
        return
    if len(spec.key) in (0, w):
        first = new[:w]
        if n_new > 1 and new[w:] == pred[: len(new) - w] and _find_row(pred, first, 0, w) < 0:
            # One new row before the previous ones (a snake's step): a literal and one run.
            codes, ops, literal = [3, (n_new - 1) << 1, 0], 2, first
        else:
            codes, ops, literal = _match_rows(pred, new, w)
        base = copied = None  # whole rows copied equal their predictions: no residuals
    else:
        kp, kn = _keys(pred, w, spec.key), _keys(new, w, spec.key)
        if kp == kn:  # the same rows in the same order: one copy run and its residuals
            _one_run(out, n_new)
            _aligned(out, pred, new)
            return
        codes, ops, literal, base, copied = _match_keys(pred, new, w, kp, kn)
    if n_new < 64:  # counts, skips (< _SEQ_WINDOW) and the number of runs all one byte
        out += bytes((n_new, ops, *codes))
    else:
        _put(out, n_new)
        _put(out, ops)
        for z in codes:
            _put(out, z)
    if base is None:
        out.append(0)
    else:
        _aligned(out, base, copied)
    _put_zigs(out, literal)


def _read_seq(r: _Reader, spec: _Rows, old: list[int]) -> list[int]:
    w = spec.width
    pred = _predicted(spec, old)
    n_old = len(pred) // w if w else 0
    rows = r.uint()
    # The runs as (first old row, count), -1 for literals; the copies' rows as one slice each.
    runs: list[tuple[int, int]] = []
    base: list[int] = []
    total = nxt = 0
    for _ in range(r.uint()):
        head = r.uint()
        count = head >> 1
        total += count
        if head & 1:
            runs.append((-1, count))
            continue
        nxt += r.uint()
        if nxt + count > n_old:
            raise WireError("a copy run reaches past the previous rows")
        runs.append((nxt, count))
        base += pred[nxt * w : (nxt + count) * w]
        nxt += count
    if total != rows:
        raise WireError("runs do not add up to the row count")
    copied = _read_aligned(r, base)
    if len(copied) != len(base):
        raise WireError("residuals do not match the copied rows")
    if len(runs) == 1 and runs[0][0] >= 0:  # one copy run: the rows are the copies
        return copied if copied is not base else base[:]
    out: list[int] = []
    ci = 0
    for first, count in runs:
        if first >= 0:
            out += copied[ci : ci + count * w]
            ci += count * w
        else:
            out += _read_zigs(r, count * w)
    return out


# --- encoder and decoder -----------------------------------------------------------------------


class Encoder:
    """One per match and runner: each ``encode`` is a keyframe or a delta against the last."""

    def __init__(self, schema: Schema, *, keyframe_every: int, first_frame: int = 0) -> None:
        self.schema = schema
        self.keyframe_every = keyframe_every
        # A new runner starts elsewhere in the numbering: a client whose last frame was the old
        # runner's (its keyframe held back by the gateway) must not take a delta as the next.
        self.frame = first_frame % FRAME_MOD
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
            # By index: the same specs mean as many channels, and zip(strict=True) costs more
            # than a pass over a few channels.
            olds = last[1]
            for i in range(len(chans)):
                spec, old, new = specs[i], olds[i], chans[i]
                if spec is not None and spec.seq:
                    _seq(out, spec, old, new)
                elif old == new:
                    out.append(0)
                else:
                    _aligned(out, old, new)
            if blobs == last[2]:
                out += bytes(len(blobs))  # a 0 for each: unchanged
            else:
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
                elif r.pos < len(data) and data[r.pos] == 0:  # unchanged: most, without a call
                    r.pos += 1
                    chans.append(old)
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
        # No events is the usual blob: its list without the parser's detours.
        values = [[] if b == b"[]" else json.loads(b) for b in blobs]
        message = self.schema.build(chans, values, consts, tick)
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
