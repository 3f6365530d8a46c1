// Prediction of the local player (Gambetta's client-side prediction and reconciliation): the
// newest server state, then the inputs it has not applied yet (its `acks`, docs/protocol.md)
// replayed tick by tick with the title's `predict` model (its browser/predict.js), up to the
// tick an input sent now would be applied at. Each input asks the server for that tick (`at`:
// the runner holds one that comes early), so the uplink's jitter does not move the own player.
// One that comes later is caught up by the server as if applied at its `at` (at most
// `welcome.catch_up_ticks` back) when the title can, and predicted so with the model's `late`;
// for other titles it is corrected. A correction is faded out, not snapped, unless it is
// larger than the model's `snap`.

const MAX_AHEAD = 45; // ticks past the newest state predicted at most (a long stall)
const SMOOTH_MS = 90; // a correction fades with this time constant
// The lead is this high a quantile of the last inputs' arrivals (their `ack`s): later than
// nearly all of them, without letting a rare stall hold every input back.
const LEAD_SAMPLES = 32;
const LEAD_QUANTILE = 0.95;
const LEAD_STEP = 0.25; // ticks: a smaller change of the measured lead is not worth a shift
const SENT_KEPT = 64; // inputs whose send time is kept for their `ack`

const quantile = (values, q) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

const size = (v) => Math.hypot(...v);

export class Predictor {
  // `clock(now)`: the newest tick that has arrived by `now` on the least delayed path
  // (Timeline.clockTick); `rttTicks()`: the round trip in ticks, or null before one is known;
  // `local(now)`: the page's own time in ticks (now / dt; by default `now` is in ticks);
  // `catchUp`: how many ticks back the server catches a late input up (the welcome's).
  constructor(model, { slot, clock, rttTicks, local = (now) => now, catchUp = 0 }) {
    this.model = model;
    this.catchUp = catchUp;
    this.slot = slot;
    this.clock = clock;
    this.rttTicks = rttTicks;
    this.local = local;
    this.pending = []; // [{seq, input, tick}] in seq order, not applied by the server yet
    this.base = null; // {tick, state, moves}
    this.offset = null; // the smoothing: drawn = predicted + offset
    this.lead = null; // ticks from the clock to the tick an input sent now is applied at
    // Once inputs were acked: the tick an input sent at local tick T is applied at is
    // T + arrival. Counted from the page's own time, not the clock, which snaps when the
    // states' lateness changes while the uplink's does not.
    this.arrival = null;
    this.held = null; // the last input the server applied (models whose snapshot lacks it)
    this.heldTick = null; // the tick it took effect at: no later input catches up past it
    this.samples = []; // measured arrivals: ticks past the local tick each input was sent at
    this.sentAt = new Map(); // seq → the local tick it was sent at (for its `ack`)
    this.lastStamp = 0;
    this.memory = null; // what the model keeps from state to state (its `remember`)
  }

  _lead(now) {
    if (this.arrival !== null) return this.arrival + this.local(now) - this.clock(now);
    if (this.lead === null) this.lead = this.rttTicks() ?? 2;
    return this.lead;
  }

  // The tick to ask for an input sent now (its `at`): the first state to show it. Never
  // before an earlier input's, which the server would not let it overtake.
  stamp(now = performance.now()) {
    return Math.max(Math.floor(this.clock(now) + this._lead(now)) + 1, this.lastStamp);
  }

  // An input just sent with this seq, asking for `tick`.
  sent(seq, input, now = performance.now(), tick = this.stamp(now)) {
    this.pending.push({ seq, input, tick });
    this.lastStamp = Math.max(this.lastStamp, tick);
    // Before the first state the clock says nothing: such an input does not tune the lead.
    if (this.base === null) return;
    this.sentAt.set(seq, this.local(now));
    if (this.sentAt.size > SENT_KEPT) this.sentAt.delete(this.sentAt.keys().next().value);
  }

  // The server's `ack` of an input: `tick` is the tick it was queued at, so unheld it would
  // have been applied at the next one. Against the local tick it was sent at, that is one
  // sample of the lead; a change of the lead is faded in like a correction. Returns it
  // (field units).
  arrived(seq, tick, now = performance.now()) {
    const sentAt = this.sentAt.get(seq);
    if (sentAt === undefined) return 0;
    this.sentAt.delete(seq);
    this.samples.push(tick + 0.5 - sentAt);
    if (this.samples.length > LEAD_SAMPLES) this.samples.shift();
    const arrival = quantile(this.samples, LEAD_QUANTILE);
    if (this.arrival !== null && Math.abs(arrival - this.arrival) < LEAD_STEP) return 0;
    const before = this.base ? this.drawn(now) : null;
    this.arrival = arrival;
    if (!before) return 0;
    const jump = this.model.diff(this.present(now), before);
    this.offset = size(jump) > this.model.snap ? null : jump;
    return size(jump);
  }

  // A new server state: the inputs it acknowledges leave the pending list. Returns the size
  // of the correction (field units) the change of base made.
  reconcile(state, tick, acks, paused, now = performance.now()) {
    const ack = acks?.[this.slot] ?? 0;
    const predicted = this.base ? this.present(now) : null;
    const before = this.base ? this.drawn(now) : null;
    let applied = null;
    while (this.pending.length && this.pending[0].seq <= ack) applied = this.pending.shift();
    if (applied) {
      // The first state that acknowledges it is the one whose step applied it, caught up to
      // its stamp as far as the server's cap allows.
      this.held = applied.input;
      this.heldTick = Math.max(Math.min(applied.tick, tick), tick - this.catchUp);
    }
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
    const clock = this.clock(now);
    const lead = Math.min(MAX_AHEAD, Math.max(0, this._lead(now)));
    const t = Math.min(clock + lead, base.tick + MAX_AHEAD);
    const k = Math.floor(t);
    let own = model.own(base.state, this.slot, this.memory);
    if (model.sticky && this.held) own = model.input(own, this.held);
    let prev = own;
    let p = 0;
    // A late input catches up as the server's runner does: at most `catchUp` ticks, never
    // before the previous input took effect, and not in a match that no longer moves.
    const catchUp = model.late && model.moves(base.state) ? this.catchUp : 0;
    let since = this.heldTick ?? -Infinity;
    for (let j = base.tick + 1; j <= k + 1; j++) {
      while (p < this.pending.length && this.pending[p].tick <= j) {
        const { input, tick } = this.pending[p++];
        const late = tick > 0 ? Math.min(j - tick, catchUp, j - since) : 0;
        own = late > 0 ? model.late(own, input, late, base.state) : model.input(own, input);
        since = j - Math.max(0, late);
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
