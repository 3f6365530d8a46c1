// A replay's frames, fetched in chunks from the lobby API (GET /api/matches/<id>/replay):
// chunk k holds ticks k·size .. k·size + size − 1. Only a few chunks are kept around the
// position being watched; a failed fetch is tried again after a pause.
import { api } from "./api.js";

const RETRY_MS = 2000;

export class FrameStore {
  constructor(matchId, { ticks, size = 300, keep = 5 }) {
    this.matchId = matchId;
    this.size = size;
    this.keep = keep;
    this.lastTick = ticks; // may shrink if the re-simulation ends earlier than recorded
    this.chunks = new Map(); // index → {frames: [] | null, promise, failedAt, error}
    this.error = null; // the latest fetch failure, cleared by the next success
    this.final = false; // the server refused for good (a 4xx other than 429): no more tries
    this.fetches = 0;
    this.focus = 0; // the chunk being watched: eviction keeps its neighbours
  }

  chunkOf(tick) {
    return Math.floor(tick / this.size);
  }

  // The snapshot of `tick`, or null while its chunk is not here.
  get(tick) {
    const chunk = this.chunks.get(this.chunkOf(tick));
    return chunk?.frames?.[tick - this.chunkOf(tick) * this.size] ?? null;
  }

  has(tick) {
    return this.get(tick) !== null;
  }

  // Start fetching the chunk holding `tick` (if not here or on its way); resolves when here.
  ensure(tick) {
    const index = this.chunkOf(tick);
    const from = index * this.size;
    if (tick < 0 || from > this.lastTick || this.final) return Promise.resolve();
    const known = this.chunks.get(index);
    if (known && (known.frames || known.promise)) return known.promise ?? Promise.resolve();
    if (known && performance.now() - known.failedAt < RETRY_MS) return Promise.resolve();
    const chunk = { frames: null, promise: null, failedAt: 0 };
    const count = Math.min(this.size, this.lastTick - from + 1);
    this.fetches += 1;
    chunk.promise = api.replay(this.matchId, from, count).then(
      (body) => {
        const frames = new Array(count).fill(null);
        for (const frame of body.frames) frames[frame.tick - from] = frame;
        chunk.frames = frames;
        chunk.promise = null;
        this.error = null;
        if (body.frames.length < count) this.lastTick = Math.min(this.lastTick, from + body.frames.length - 1);
        this.evict();
      },
      (err) => {
        chunk.promise = null;
        chunk.failedAt = performance.now();
        this.error = err;
        this.final = err.status >= 400 && err.status < 500 && err.status !== 429;
      },
    );
    this.chunks.set(index, chunk);
    return chunk.promise;
  }

  // The chunk being watched and the next one: playing on needs no wait.
  want(tick) {
    this.focus = this.chunkOf(tick);
    this.ensure(tick);
    if (this.has(tick)) this.ensure((this.chunkOf(tick) + 1) * this.size);
  }

  evict() {
    if (this.chunks.size <= this.keep) return;
    const away = (index) => Math.abs(index - this.focus);
    const far = [...this.chunks.keys()].sort((p, q) => away(q) - away(p));
    for (const index of far.slice(0, this.chunks.size - this.keep)) this.chunks.delete(index);
  }

  get loaded() {
    return [...this.chunks].filter(([, c]) => c.frames).map(([index]) => index).sort((p, q) => p - q);
  }
}
