// What the network benchmark reads (manage.py bench_network): a key press to the first drawn
// frame that shows its effect, remote objects drawn unmoved, the size of corrections.
// A few numbers per frame, so it always runs; window.__game.probe holds it.

const STILL = 0.01; // field units: less than this between frames is "unmoved"
const KEEP = 2000; // samples kept per list (the benchmark reads and clears them)

const far = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1]) > STILL;

export class Probe {
  constructor() {
    this.reset();
  }

  reset() {
    this.latencies = []; // ms, key press → first frame drawing the own object moved
    this.corrections = []; // field units, per state that moved the predicted own object
    this.freezes = 0; // runs of more than 2 frames with a moving remote object drawn unmoved
    this.frozenFrames = 0;
    this.frames = 0;
    this.since = performance.now();
    this._pending = null;
    this._own = null;
    this._ownMoved = false;
    this._remote = [];
    this._still = [];
  }

  // A control key went down: its effect is the own object moving from where it is drawn now
  // (only counted when it was standing still).
  press(at = performance.now()) {
    this._pending = this._own && !this._ownMoved ? { at, from: this._own } : null;
  }

  correction(units) {
    if (units > 0 && this.corrections.length < KEEP) this.corrections.push(units);
  }

  // One drawn frame: `own` [x, y] of the local player's object (or null), `moving` [[x, y]]
  // of the remote objects that are in motion in the server's states, in a stable order.
  frame({ own = null, moving = [] } = {}, now = performance.now()) {
    this.frames += 1;
    if (own) {
      this._ownMoved = this._own !== null && far(own, this._own);
      if (this._pending && far(own, this._pending.from)) {
        if (this.latencies.length < KEEP) this.latencies.push(now - this._pending.at);
        this._pending = null;
      }
      this._own = own;
    }
    if (moving.length !== this._remote.length) this._still = moving.map(() => 0);
    moving.forEach((p, i) => {
      const before = this._remote[i];
      if (before && !far(p, before)) {
        this._still[i] += 1;
        if (this._still[i] === 3) this.freezes += 1;
        if (this._still[i] >= 3) this.frozenFrames += 1;
      } else {
        this._still[i] = 0;
      }
    });
    this._remote = moving;
  }
}
