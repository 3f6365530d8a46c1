// The match socket: connect, reconnect with exponential backoff, measure the round trip.
//
// The server knows who we are from the session cookie, so a reconnect lands back in the same
// slot by itself; all we do is open a new socket. Messages are docs/protocol.md's, v1.

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 2000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8000;

// Close codes after which trying again cannot help (docs/protocol.md).
const FINAL_CLOSES = new Map([
  [1000, "left the match"],
  [4404, "unknown match"],
  [4409, "opened in another tab"],
  [4410, "match over"],
]);

export class MatchSocket extends EventTarget {
  constructor(publicId, { url } = {}) {
    super();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = url ?? `${scheme}://${location.host}/ws/matches/${encodeURIComponent(publicId)}/`;
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

  sendInput(input) {
    return this._send({ type: "input", v: PROTOCOL_VERSION, seq: ++this.seq, input });
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
    this.ws = ws;
    ws.addEventListener("open", () => {
      this._setStatus("open");
      this._ping();
      clearInterval(this._pingTimer);
      this._pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
    });
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => this._closed(ws, event));
  }

  _receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    switch (message.type) {
      case "welcome":
        this.attempt = 0; // a healthy connection: the next drop starts the backoff afresh
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
    // Full jitter keeps a crowd of clients that lost the same server from returning at once.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.retryAt = performance.now() + delay;
    this._setStatus("reconnecting", `retry in ${(delay / 1000).toFixed(1)} s`);
    this._retryTimer = setTimeout(() => this._open(), delay);
  }
}
