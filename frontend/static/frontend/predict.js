// Prediction of the local player (Gambetta's client-side prediction and reconciliation): the
// newest server state, then the inputs it has not applied yet (its `acks`, docs/protocol.md)
// replayed tick by tick with the title's `predict` model (its browser/predict.js), up to the
// tick an input sent now would be applied at. A correction is faded out, not snapped, unless
// it is larger than the model's `snap`.

const MAX_AHEAD = 45; // ticks past the newest state predicted at most (a long stall)
const SMOOTH_MS = 90; // a correction fades with this time constant
const LEAD_SAMPLES = 9; // the lead is the median of this many measured inputs

const size = (v) => Math.hypot(...v);

export class Predictor {
  // `clock(now)`: the newest tick that has arrived by `now` on the least delayed path
  // (Timeline.clockTick); `rttTicks()`: the round trip in ticks, or null before one is known.
  constructor(model, { slot, clock, rttTicks }) {
    this.model = model;
    this.slot = slot;
    this.clock = clock;
    this.rttTicks = rttTicks;
    this.pending = []; // [{seq, input, tick}] in seq order, not applied by the server yet
    this.base = null; // {tick, state, moves}
    this.offset = null; // the smoothing: drawn = predicted + offset
    this.lead = null; // ticks from the clock to the tick an input sent now is applied at
    this.lastTick = null;
    this.acked = 0;
    this.held = null; // the last input the server applied (models whose snapshot lacks it)
    this.samples = []; // measured leads, ticks
    this.memory = null; // what the model keeps from state to state (its `remember`)
  }

  _lead() {
    if (this.lead === null) this.lead = this.rttTicks() ?? 2;
    return this.lead;
  }

  // An input just sent with this seq: applied (we guess) at the next tick the server starts
  // after it arrives.
  sent(seq, input, now = performance.now()) {
    const clock = this.clock(now);
    const tick = Math.floor(clock + this._lead()) + 1;
    // Before the first state the clock says nothing: such an input does not tune the lead.
    this.pending.push({ seq, input, tick, clock: this.base !== null ? clock : null });
  }

  // A new server state: the inputs it acknowledges leave the pending list; each of them,
  // seen acknowledged on the tick right after one that was not, says when it was applied.
  // Returns the size of the correction (field units) the change of base made.
  reconcile(state, tick, acks, paused, now = performance.now()) {
    const ack = acks?.[this.slot] ?? 0;
    const predicted = this.base ? this.present(now) : null;
    const before = this.base ? this.drawn(now) : null;
    const consecutive = this.lastTick !== null && tick === this.lastTick + 1;
    while (this.pending.length && this.pending[0].seq <= ack) {
      const done = this.pending.shift();
      this.held = done.input;
      if (consecutive && done.clock !== null && done.seq > this.acked) {
        // Applied at `tick`: the lead that would have stamped it so, from the middle of the
        // clock values that do; the median of the last few keeps a stalled one out.
        this.samples.push(tick - 0.5 - done.clock);
        if (this.samples.length > LEAD_SAMPLES) this.samples.shift();
        const sorted = [...this.samples].sort((x, y) => x - y);
        this.lead = Math.max(0, Math.min(MAX_AHEAD, sorted[sorted.length >> 1]));
      }
    }
    this.acked = Math.max(this.acked, ack);
    this.lastTick = tick;
    if (this.model.remember) this.memory = this.model.remember(this.memory, state, this.slot);
    this.base = { tick, state, moves: !paused?.length && this.model.moves(state) };
    if (!before) return 0;
    const after = this.present(now);
    const error = size(this.model.diff(after, predicted));
    const jump = this.model.diff(after, before);
    this.offset = size(jump) > this.model.snap ? null : jump;
    return error;
  }

  // The server refused the input with this seq (an `error` whose `ref` is it): it will never
  // be applied, so it leaves the prediction at once instead of when a later input is
  // acknowledged; what it had moved is faded back like a correction. Returns the change
  // (field units), 0 for a seq not pending.
  refused(seq, now = performance.now()) {
    const i = this.pending.findIndex((p) => p.seq === seq);
    if (i < 0) return 0;
    const before = this.base ? this.drawn(now) : null;
    this.pending.splice(i, 1);
    if (!before) return 0;
    const jump = this.model.diff(this.present(now), before);
    this.offset = size(jump) > this.model.snap ? null : jump;
    return size(jump);
  }

  // The predicted own object at `now`, without smoothing.
  present(now = performance.now()) {
    const { model, base } = this;
    const t = Math.min(this.clock(now) + this._lead(), base.tick + MAX_AHEAD);
    const k = Math.floor(t);
    let own = model.own(base.state, this.slot, this.memory);
    if (model.sticky && this.held) own = model.input(own, this.held);
    let prev = own;
    let p = 0;
    for (let j = base.tick + 1; j <= k + 1; j++) {
      while (p < this.pending.length && this.pending[p].tick <= j) {
        own = model.input(own, this.pending[p++].input);
      }
      if (base.moves) own = model.step(own, base.state);
      if (j === k) prev = own;
    }
    if (k + 1 <= base.tick) return own; // the clock is behind the newest state
    return model.blend(prev, own, t - k);
  }

  // What to draw at `now`: the prediction, with what is left of the last corrections.
  drawn(now = performance.now()) {
    const own = this.present(now);
    return this.offset ? this.model.shift(own, this.offset) : own;
  }

  // Once per drawn frame: the corrections fade.
  fade(frameMs) {
    if (!this.offset) return;
    const k = Math.exp(-frameMs / SMOOTH_MS);
    this.offset = this.offset.map((v) => v * k);
    if (size(this.offset) < 0.05) this.offset = null;
  }
}
