// Compact state frames back to the v1 state messages the rest of the client reads.
//
// The decoder of matches/titles/wire.py (docs/protocol.md, "Compact states"), driven by the
// schema the server sends in `welcome.wire`: a keyframe holds every channel, a delta only what
// changed against the frame before it. A delta that does not follow the last frame decoded
// throws a WireError with `resync` set: the socket asks for a keyframe.

export const KEYFRAME = 1;
export const DELTA = 2;
const FRAME_MOD = 1 << 16;
const utf8 = new TextDecoder();

export class WireError extends Error {
  constructor(message, { resync = false } = {}) {
    super(message);
    this.resync = resync;
  }
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
  }

  // LEB128; arithmetic, not bit operations: input seqs go past 32 bits.
  uint() {
    let n = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new WireError("frame ends inside a number");
      const b = this.bytes[this.pos++];
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
      if (scale > 2 ** 63) throw new WireError("number too long");
    }
  }

  sint() {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  take(size) {
    if (this.pos + size > this.bytes.length) throw new WireError("frame ends inside a block");
    const chunk = this.bytes.subarray(this.pos, this.pos + size);
    this.pos += size;
    return chunk;
  }
}

// Leaves a node puts in its enclosing channel (rows have their own channel).
function width(node) {
  switch (node.k) {
    case "num":
    case "bool":
    case "enum":
      return 1;
    case "opt":
      return 2;
    case "struct":
      return node.f.reduce((sum, f) => sum + width(f[1]) + (f.length > 2 ? 1 : 0), 0);
    case "tuple":
      return node.of.reduce((sum, n) => sum + width(n), 0);
    default:
      return 0;
  }
}

function rowsSpec(node) {
  if (!node._spec) {
    const seq = node.seq ?? null;
    node._spec = {
      width: width(node.of),
      seq: seq !== null,
      key: seq?.key ?? [],
      move: seq?.move ?? [],
      div: seq?.div ?? 1,
    };
  }
  return node._spec;
}

// Walks the schema over the channels; with `spy`, collects each channel's rows spec instead.
class Cursor {
  constructor(chans, blobs, consts, tick, spy = null) {
    Object.assign(this, { chans, blobs, consts, tick, spy });
    this.ci = 0;
    this.bi = 0;
  }

  nextChan() {
    if (this.ci >= this.chans.length) throw new WireError("fewer channels than the schema needs");
    return { chan: this.chans[this.ci++], i: 0 };
  }

  leaf(at) {
    if (at.i >= at.chan.length) throw new WireError("a channel is shorter than its rows");
    return at.chan[at.i++];
  }

  get(node, at, path) {
    switch (node.k) {
      case "num": {
        const q = this.leaf(at);
        return node.s === 1 ? q : q / node.s;
      }
      case "struct": {
        const out = {};
        for (const [key, sub, opt] of node.f) {
          if (opt && !this.leaf(at)) continue;
          out[key] = this.get(sub, at, path ? `${path}.${key}` : key);
        }
        return out;
      }
      case "rows": {
        if (this.spy) this.spy.push(rowsSpec(node));
        const own = this.nextChan();
        const w = rowsSpec(node).width;
        const count = w ? Math.floor(own.chan.length / w) : 0;
        const out = [];
        for (let n = 0; n < count; n++) out.push(this.get(node.of, own, path));
        return out;
      }
      case "bool":
        return Boolean(this.leaf(at));
      case "tuple":
        return node.of.map((sub) => this.get(sub, at, path));
      case "opt": {
        const present = this.leaf(at);
        const q = this.leaf(at);
        if (!present) return null;
        return node.s === 1 ? q : q / node.s;
      }
      case "enum": {
        const index = this.leaf(at);
        if (index < 0 || index >= node.of.length) throw new WireError("enum index out of range");
        return node.of[index];
      }
      case "json":
        if (this.spy) {
          this.bi += 1;
          return null;
        }
        if (this.bi >= this.blobs.length) throw new WireError("fewer blobs than the schema needs");
        return JSON.parse(utf8.decode(this.blobs[this.bi++]));
      case "const":
        return this.consts[path] ?? null;
      case "tick":
        return this.tick;
      default:
        throw new WireError(`unknown wire node ${node.k}`);
    }
  }
}

function readRaw(r) {
  const n = r.uint();
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = r.sint();
  return out;
}

// 0: unchanged; odd: raw values follow; 2c: c values changed, a mask then the differences.
function readAligned(r, old) {
  const head = r.uint();
  if (head % 2 === 1) return readRaw(r);
  const count = head / 2;
  if (!count) return old;
  const out = old.slice();
  const mask = r.take((old.length + 7) >> 3);
  let seen = 0;
  for (let i = 0; i < old.length; i++) {
    if (mask[i >> 3] & (1 << (i & 7))) {
      out[i] += r.sint();
      seen += 1;
    }
  }
  if (seen !== count) throw new WireError("a change mask does not match its count");
  return out;
}

// The previous rows moved one tick on (x += floor((vx + div/2) / div)), as the server does.
function predicted(spec, old) {
  if (!spec.move.length) return old;
  const pred = old.slice();
  const half = spec.div >> 1;
  for (const [x, vx] of spec.move) {
    for (let i = 0; i + spec.width <= old.length; i += spec.width) {
      pred[i + x] = old[i + x] + Math.floor((old[i + vx] + half) / spec.div);
    }
  }
  return pred;
}

function readSeq(r, spec, old) {
  const w = spec.width;
  const pred = predicted(spec, old);
  const nOld = w ? Math.floor(pred.length / w) : 0;
  const rows = r.uint();
  const plan = [];
  let next = 0;
  for (let ops = r.uint(); ops > 0; ops--) {
    const head = r.uint();
    const count = Math.floor(head / 2);
    if (head % 2 === 1) {
      for (let n = 0; n < count; n++) plan.push(-1);
      continue;
    }
    next += r.uint();
    if (next + count > nOld) throw new WireError("a copy run reaches past the previous rows");
    for (let n = 0; n < count; n++) plan.push(next + n);
    next += count;
  }
  if (plan.length !== rows) throw new WireError("runs do not add up to the row count");
  const base = [];
  for (const i of plan) if (i >= 0) for (let c = 0; c < w; c++) base.push(pred[i * w + c]);
  const copied = readAligned(r, base);
  if (copied.length !== base.length) throw new WireError("residuals do not match the copied rows");
  const out = [];
  let ci = 0;
  for (const i of plan) {
    if (i >= 0) {
      for (let c = 0; c < w; c++) out.push(copied[ci++]);
    } else {
      for (let c = 0; c < w; c++) out.push(r.sint());
    }
  }
  return out;
}

export class StateDecoder {
  constructor(schema) {
    this.schema = schema;
    this.frame = null; // the frame number of the last frame decoded
    this.chans = [];
    this.specs = [];
    this.blobs = [];
    this.consts = {};
    this.blobCount = 0;
  }

  // ArrayBuffer or Uint8Array → the state message, as v1 would have sent it.
  decode(data) {
    const r = new Reader(data instanceof Uint8Array ? data : new Uint8Array(data));
    const kind = r.take(1)[0];
    const frame = r.uint();
    const tick = r.uint();
    let consts;
    let chans;
    let specs;
    let blobs;
    if (kind === KEYFRAME) {
      consts = JSON.parse(utf8.decode(r.take(r.uint())));
      chans = [];
      for (let n = r.uint(); n > 0; n--) chans.push(readRaw(r));
      specs = this._specsOf(chans, consts, tick);
      blobs = [];
      for (let n = 0; n < this.blobCount; n++) blobs.push(r.take(r.uint()));
    } else if (kind === DELTA) {
      if (this.frame === null || frame !== (this.frame + 1) % FRAME_MOD) {
        throw new WireError(`frame ${frame} does not follow ${this.frame}`, { resync: true });
      }
      consts = this.consts;
      specs = this.specs;
      chans = this.chans.map((old, i) => {
        const spec = specs[i];
        return spec && spec.seq ? readSeq(r, spec, old) : readAligned(r, old);
      });
      blobs = this.blobs.map((old) => {
        const head = r.uint();
        return head ? r.take(head - 1).slice() : old;
      });
    } else {
      throw new WireError(`unknown frame kind ${kind}`, { resync: true });
    }
    if (r.pos !== r.bytes.length) throw new WireError("bytes left over after the frame");
    const cursor = new Cursor(chans, blobs, consts, tick);
    const message = cursor.get(this.schema, cursor.nextChan(), "");
    Object.assign(this, { frame, chans, specs, blobs: blobs.map((b) => b.slice()), consts });
    return message;
  }

  // Forget the chain: only a keyframe decodes next (after a gap, or a resync asked for).
  reset() {
    this.frame = null;
  }

  _specsOf(chans, consts, tick) {
    const spy = [null];
    const cursor = new Cursor(chans, [], consts, tick, spy);
    cursor.get(this.schema, cursor.nextChan(), "");
    this.blobCount = cursor.bi;
    return spy;
  }
}
