// The last few server states on a local clock, and the pair to draw between at any instant.
//
// The server ticks on absolute deadlines, so tick N "happens" at base + N·dt on our clock.
// We estimate base from arrivals (arrival − N·dt): the least delayed arrival is the best
// estimate, so base follows early arrivals at once and late ones only slowly. A run of late
// arrivals (the match was paused, or the network got slower for good) snaps it instead.
// Rendering happens `delayTicks` behind the newest tick, so there is usually a state on each
// side of the instant drawn: 30 Hz in, any frame rate out. With `adaptive`, the delay follows
// the arrivals' lateness (its 95th percentile over the last few seconds, plus a tick), within
// bounds, rising at once and falling slowly; a gap longer than the delay is bridged by
// extrapolating the last two states: at full speed for EASE_AFTER ticks, then slower and
// slower, never past MAX_EXTRA (a late state is a stall of the machine or the network: the
// picture slows down through it rather than stopping dead). A base clock that snaps later
// (a run of late arrivals) lowers the delay by as much, so the picture does not go back
// nor wait: it runs at reduced speed while the delay rises to its target again.

const KEEP = 16;
const LATE_RUN = 6;
const LATE_RUN_ADAPTIVE = 30; // a second: longer than a loss-stall's burst of late states
const WINDOW = 120; // lateness samples kept (4 s at 30 Hz)
const MIN_DELAY = 1.2; // ticks
const MAX_DELAY = 8;
const MAX_EXTRA = 5; // ticks extrapolated past the newest state at most
const EASE_AFTER = 2; // ticks extrapolated at full speed; then easing towards MAX_EXTRA
const RISE = 0.25; // ticks per frame: at 60 frames/s the picture runs at half speed meanwhile
const FALL = 0.002; // per frame, how fast a larger delay comes back down (ticks)

function quantile(values, q) {
  if (!values.length) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export class Timeline {
  constructor(tickHz, { delayTicks = 1.2, adaptive = false } = {}) {
    this.dt = 1000 / tickHz;
    this.delayTicks = delayTicks;
    this.adaptive = adaptive;
    this.states = []; // [{tick, state, at}] ascending by tick
    this.base = null;
    this.lateRun = 0;
    this.lateness = []; // ms each arrival came after the least delayed path would have
    this.received = []; // ticks received lately, for the share that never came
    this.target = delayTicks;
    this.shown = null; // the last tick drawn
    this.repeating = false;
    this.clamp = null; // why the last renderTick was held: "dry", "held", "start" or null
  }

  reset() {
    this.states = [];
    this.base = null;
    this.lateRun = 0;
    this.lateness = [];
    this.received = [];
    this.shown = null;
  }

  // The newest tick that has arrived by `now` on the least delayed path (fractional).
  clockTick(now = performance.now()) {
    return this.base === null ? 0 : (now - this.base) / this.dt;
  }

  // Arrival jitter (ms): the spread of the lateness, 95th percentile over the window.
  get jitter() {
    return this.lateness.length ? quantile(this.lateness, 0.95) - quantile(this.lateness, 0.05) : 0;
  }

  // The share of the ticks in the window that never arrived (the server skipped them for us,
  // or they were lost to a reconnect).
  get loss() {
    const r = this.received;
    if (r.length < 2) return 0;
    const span = r[r.length - 1] - r[0] + 1;
    return Math.max(0, 1 - r.length / span);
  }

  get latest() {
    return this.states.length ? this.states[this.states.length - 1] : null;
  }

  push(tick, state, now = performance.now()) {
    const last = this.latest;
    if (last && tick < last.tick) return; // an older tick after a newer one: stale
    this.repeating = Boolean(last && tick === last.tick);
    if (this.repeating) {
      last.state = state; // the same tick again (paused): keep the newest flags
    } else {
      this.states.push({ tick, state, at: now });
      if (this.states.length > KEEP) this.states.shift();
    }
    this._clock(now - tick * this.dt);
    if (this.repeating) return; // a paused match's tick again: no arrival to learn from
    this.received.push(tick);
    if (this.received.length > WINDOW) this.received.shift();
    this.lateness.push(now - tick * this.dt - this.base);
    if (this.lateness.length > WINDOW) this.lateness.shift();
    if (this.adaptive) {
      const want = quantile(this.lateness, 0.95) / this.dt + 1;
      this.target = Math.min(MAX_DELAY, Math.max(MIN_DELAY, want));
    }
  }

  // Once per drawn frame: the delay rises fast (the picture slows down, never goes back)
  // and comes down slowly (no visible jump).
  settle() {
    if (!this.adaptive) return;
    if (this.delayTicks < this.target) {
      this.delayTicks = Math.min(this.target, this.delayTicks + RISE);
    } else if (this.delayTicks > this.target) {
      this.delayTicks = Math.max(this.target, this.delayTicks - FALL * (this.delayTicks - this.target + 1));
    }
  }

  _clock(sample) {
    if (this.base === null || sample < this.base) {
      this.base = sample;
      this.lateRun = 0;
      return;
    }
    const late = sample - this.base;
    if (late > 2 * this.dt) {
      if (++this.lateRun >= (this.adaptive ? LATE_RUN_ADAPTIVE : LATE_RUN)) {
        this.base = sample;
        this.lateRun = 0;
        if (this.adaptive) {
          // The same instant drawn as before the snap; the lateness seen so far was
          // measured from the old base.
          this.delayTicks -= late / this.dt;
          this.lateness = this.lateness.map((v) => Math.max(0, v - late));
        }
      }
      return;
    }
    this.lateRun = 0;
    this.base += late * 0.02; // drift along with the clocks, slowly
  }

  // The fractional tick to draw at time `now`, kept within the states we hold (adaptive: up
  // to MAX_EXTRA past the newest).
  renderTick(now = performance.now()) {
    if (!this.states.length) return null;
    const first = this.states[0].tick;
    // Not while the server repeats a tick (paused): nothing moves then.
    const extra = this.adaptive && this.states.length > 1 && !this.repeating ? MAX_EXTRA : 0;
    const last = this.latest.tick + extra;
    let t = (now - this.base) / this.dt - this.delayTicks;
    this.clamp = null;
    const over = t - this.latest.tick - EASE_AFTER;
    if (extra && over > 0) {
      // Past the full-speed extrapolation: ease out towards the cap, never reaching it.
      const room = extra - EASE_AFTER;
      t = this.latest.tick + EASE_AFTER + room * (1 - Math.exp(-over / room));
    }
    // Adaptive: never back in time (the delay rising faster than a short frame, the drift).
    if (this.adaptive && this.shown !== null && t < this.shown && this.shown <= last) {
      t = this.shown;
      this.clamp = "held";
    }
    if (t > last) this.clamp = "dry"; // no newer state (nor extrapolation) to draw
    else if (t < first) this.clamp = "start";
    t = Math.min(last, Math.max(first, t));
    if (this.adaptive) this.shown = t;
    return t;
  }

  // {a, b, alpha}: draw a blend of a and b (alpha 0 → a, 1 → b); a === b when nothing to blend.
  frame(now = performance.now()) {
    const t = this.renderTick(now);
    if (t === null) return null;
    const s = this.states;
    const newest = s[s.length - 1];
    if (t > newest.tick && s.length > 1) {
      // Past the newest state: carry on along the last step (alpha > 1).
      const a = s[s.length - 2];
      return { a: a.state, b: newest.state, alpha: (t - a.tick) / (newest.tick - a.tick), tick: t };
    }
    for (let i = s.length - 1; i > 0; i--) {
      if (s[i - 1].tick <= t) {
        const a = s[i - 1];
        const b = s[i];
        const span = b.tick - a.tick;
        return { a: a.state, b: b.state, alpha: span > 0 ? (t - a.tick) / span : 1, tick: t };
      }
    }
    return { a: s[0].state, b: s[0].state, alpha: 1, tick: t };
  }
}

export const lerp = (a, b, t) => a + (b - a) * t;

// The short way round between two angles (radians).
export function lerpAngle(a, b, t) {
  let d = b - a;
  while (d > Math.PI) d -= 2 * Math.PI;
  while (d < -Math.PI) d += 2 * Math.PI;
  return a + d * t;
}
