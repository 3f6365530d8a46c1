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
    this.pressFrames = []; // ms since the frame before, of the frame that drew each press
    this.corrections = []; // field units, per state that moved the predicted own object
    this.freezes = 0; // runs of more than 2 frames with a moving remote object drawn unmoved
    this.frozenFrames = 0;
    this.causes = {}; // freezes by why the picture held (see `frame`)
    this.log = []; // per freeze: {cause, age, frames}: what the benchmark's JSON keeps
    this.frames = 0;
    this.since = performance.now();
    this._pending = null;
    this._own = null;
    this._ownMoved = false;
    this._remote = [];
    this._still = [];
    this._lastAt = null;
    this._gap = 0; // the longest frame interval (ms) in the current run of still frames
    this._open = {}; // the log entry of each object's freeze under way
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
  // `clamp`: why the timeline held the picture this frame ("dry": no newer state to draw,
  // "held": not back in time, "start", or null: it moved on). A freeze is filed under the
  // clamp of its third still frame, or "machine" when a frame came more than 50 ms after the
  // one before (the page was not drawing), or "drawn" when the timeline moved on and the
  // title drew the object in the same place anyway.
  // `age`: ms since the newest state arrived.
  frame({ own = null, moving = [] } = {}, now = performance.now(), clamp = null, age = null) {
    this.frames += 1;
    const interval = this._lastAt === null ? 0 : now - this._lastAt;
    this._lastAt = now;
    if (own) {
      this._ownMoved = this._own !== null && far(own, this._own);
      if (this._pending && far(own, this._pending.from)) {
        if (this.latencies.length < KEEP) {
          this.latencies.push(now - this._pending.at);
          this.pressFrames.push(interval);
        }
        this._pending = null;
      }
      this._own = own;
    }
    if (moving.length !== this._remote.length) {
      this._still = moving.map(() => 0);
      this._open = {};
    }
    let stillRun = false;
    moving.forEach((p, i) => {
      const before = this._remote[i];
      if (before && !far(p, before)) {
        stillRun = true;
        this._still[i] += 1;
        if (this._still[i] === 3) {
          this.freezes += 1;
          const cause = Math.max(this._gap, interval) > 50 ? "machine" : (clamp ?? "drawn");
          this.causes[cause] = (this.causes[cause] ?? 0) + 1;
          if (this.log.length < KEEP) {
            this._open[i] = { cause, age: Math.round(age ?? -1), frames: 3, object: i };
            this.log.push(this._open[i]);
          }
        }
        if (this._still[i] > 3 && this._open[i]) this._open[i].frames = this._still[i];
        if (this._still[i] >= 3) this.frozenFrames += 1;
      } else {
        this._still[i] = 0;
        delete this._open[i];
      }
    });
    this._gap = stillRun ? Math.max(this._gap, interval) : 0;
    this._remote = moving;
  }
}
