// The match socket: connect, reconnect with exponential backoff, measure the round trip.
//
// The server knows who we are from the session cookie, so a reconnect lands back in the same
// slot by itself; all we do is open a new socket. Messages are docs/protocol.md's, v1; states
// come as compact binary frames (`?encoding=compact`), which codec.js turns back into v1 ones.

import { StateDecoder } from "./codec.js";

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 2000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8000;
const RESYNC_EVERY_MS = 600; // the server refuses a socket's resyncs closer than 0.5 s

// Close codes after which trying again cannot help (docs/protocol.md).
const FINAL_CLOSES = new Map([
  [1000, "left the match"],
  [4404, "unknown match"],
  [4409, "opened in another tab"],
  [4410, "match over"],
]);

export class MatchSocket extends EventTarget {
  constructor(publicId, { url, encoding = "compact" } = {}) {
    super();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const path = `/ws/matches/${encodeURIComponent(publicId)}/?encoding=${encoding}`;
    this.url = url ?? `${scheme}://${location.host}${path}`;
    this.decoder = null; // set by a compact welcome
    this._resyncAt = -Infinity;
    this.ws = null;
    this.status = "idle"; // connecting | open | reconnecting | closed
    this.detail = "";
    this.attempt = 0;
    this.retryAt = null;
    this.seq = 0;
    this.rtt = null; // ms, smoothed
    this.stopped = false;
    this._pingTimer = null;
    this._retryTimer = null;
  }

  connect() {
    this.stopped = false;
    this._open();
  }

  // No more reconnects (leaving the page, the match is over).
  stop() {
    this.stopped = true;
    clearTimeout(this._retryTimer);
    clearInterval(this._pingTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
    this._setStatus("closed", this.detail);
  }

  // Close the socket as a network failure would, and reconnect (tests, trying it by hand).
  drop() {
    this._dropped = this.ws;
    this.ws?.close(4000, "dropped by the client");
  }

  // `at`: the tick to apply it at (a predicting page's); the server then acks it, which
  // tells the page when its inputs arrive.
  sendInput(input, at = null) {
    const message = { type: "input", v: PROTOCOL_VERSION, seq: ++this.seq, input };
    return this._send(at === null ? message : { ...message, at, ack: true });
  }

  leave() {
    return this._send({ type: "leave", v: PROTOCOL_VERSION });
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  _send(message) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  _setStatus(status, detail = "") {
    this.status = status;
    this.detail = detail;
    this.dispatchEvent(new CustomEvent("status", { detail: { status, detail } }));
  }

  _open() {
    this._setStatus(this.attempt ? "reconnecting" : "connecting", this.detail);
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.decoder = null;
    ws.addEventListener("open", () => {
      this._setStatus("open");
      this._ping();
      clearInterval(this._pingTimer);
      this._pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
    });
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => this._closed(ws, event));
  }

  _receive(data) {
    let message;
    if (typeof data !== "string") {
      message = this._decode(data);
      if (message === null) return;
    } else {
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
    }
    switch (message.type) {
      case "welcome":
        this.attempt = 0; // a healthy connection: the next drop starts the backoff afresh
        this.decoder = message.encoding === "compact" ? new StateDecoder(message.wire) : null;
        break;
      case "ping": // the server checks that we keep reading
        this._send({ type: "pong", v: PROTOCOL_VERSION, id: message.id });
        return;
      case "pong": {
        const sample = performance.now() - message.t;
        this.rtt = this.rtt === null ? sample : this.rtt * 0.75 + sample * 0.25;
        this.dispatchEvent(new CustomEvent("rtt", { detail: this.rtt }));
        return;
      }
      case "error":
        if (message.code === "replaced" || message.code === "unknown_match") {
          this.detail = message.reason;
        }
        break;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  // A compact frame → the v1 state message; null (and a resync asked for) when it cannot apply.
  _decode(buffer) {
    if (this.decoder === null) return null;
    try {
      return this.decoder.decode(buffer);
    } catch {
      this.decoder.reset();
      const now = performance.now();
      if (now - this._resyncAt >= RESYNC_EVERY_MS) {
        this._resyncAt = now;
        this._send({ type: "resync", v: PROTOCOL_VERSION });
      }
      return null;
    }
  }

  _ping() {
    this._send({ type: "ping", v: PROTOCOL_VERSION, t: performance.now() });
  }

  _closed(ws, event) {
    if (ws !== this.ws) return;
    clearInterval(this._pingTimer);
    // After a drop() the server may answer our close with any code: none of them is final.
    const final = this._dropped === ws ? undefined : FINAL_CLOSES.get(event.code);
    if (this.stopped || final) {
      this.stopped = true;
      this._setStatus("closed", final ?? this.detail);
      return;
    }
    // Full jitter (from zero to the ceiling, not around it) spreads a crowd of clients that
    // lost the same server over the whole window: a restarted Daphne, and nginx's limit in
    // front of it, see a ramp, not a wall (docs/operations.md, "Reconnect stampede"). Daphne
    // shutting down sends no close frame (1006 here), and an nginx refusal (429) or a gone
    // upstream (502) fails the handshake (1006 too): none of them is final.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = Math.random() * ceiling;
    this.attempt += 1;
    this.retryAt = performance.now() + delay;
    this._setStatus("reconnecting", `retry in ${(delay / 1000).toFixed(1)} s`);
    this._retryTimer = setTimeout(() => this._open(), delay);
  }
}
