// The last few server states on a local clock, and the pair to draw between at any instant.
//
// The server ticks on absolute deadlines, so tick N "happens" at base + N·dt on our clock.
// We estimate base from arrivals (arrival − N·dt): the least delayed arrival is the best
// estimate, so base follows early arrivals at once and late ones only slowly. A run of late
// arrivals (the match was paused, or the network got slower for good) snaps it instead.
// Rendering happens `delayTicks` behind the newest tick, so there is usually a state on each
// side of the instant drawn: 30 Hz in, any frame rate out, without extrapolating.

const KEEP = 8;
const LATE_RUN = 6;

export class Timeline {
  constructor(tickHz, { delayTicks = 1.2 } = {}) {
    this.dt = 1000 / tickHz;
    this.delayTicks = delayTicks;
    this.states = []; // [{tick, state, at}] ascending by tick
    this.base = null;
    this.lateRun = 0;
  }

  reset() {
    this.states = [];
    this.base = null;
    this.lateRun = 0;
  }

  get latest() {
    return this.states.length ? this.states[this.states.length - 1] : null;
  }

  push(tick, state, now = performance.now()) {
    const last = this.latest;
    if (last && tick < last.tick) return; // an older tick after a newer one: stale
    if (last && tick === last.tick) {
      last.state = state; // the same tick again (paused): keep the newest flags
    } else {
      this.states.push({ tick, state, at: now });
      if (this.states.length > KEEP) this.states.shift();
    }
    this._clock(now - tick * this.dt);
  }

  _clock(sample) {
    if (this.base === null || sample < this.base) {
      this.base = sample;
      this.lateRun = 0;
      return;
    }
    const late = sample - this.base;
    if (late > 2 * this.dt) {
      if (++this.lateRun >= LATE_RUN) {
        this.base = sample;
        this.lateRun = 0;
      }
      return;
    }
    this.lateRun = 0;
    this.base += late * 0.02; // drift along with the clocks, slowly
  }

  // The fractional tick to draw at time `now`, kept within the states we hold.
  renderTick(now = performance.now()) {
    if (!this.states.length) return null;
    const first = this.states[0].tick;
    const last = this.latest.tick;
    const t = (now - this.base) / this.dt - this.delayTicks;
    return Math.min(last, Math.max(first, t));
  }

  // {a, b, alpha}: draw a blend of a and b (alpha 0 → a, 1 → b); a === b when nothing to blend.
  frame(now = performance.now()) {
    const t = this.renderTick(now);
    if (t === null) return null;
    const s = this.states;
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
