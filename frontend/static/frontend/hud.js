// Everything around the canvas: connection badge, scoreboard, overlays (waiting, countdown,
// paused, reconnecting, result). Plain DOM, updated only when its text changes.
import { slotColor } from "./palette.js";

const $ = (id) => document.getElementById(id);

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

export function nameOf(players, slot) {
  // Bots join at the start, after our welcome: a seat we have no name for is a bot's.
  return players.find((p) => p.slot === slot)?.name ?? `Bot ${slot + 1}`;
}

// One scoreboard row per slot, from the title module's `scoreboard(state)`, with names.
function rows(scoreboard, state, players, you) {
  const out = scoreboard(state);
  for (const row of out) {
    const p = players.find((q) => q.slot === row.slot);
    row.name = nameOf(players, row.slot);
    row.away = p && !p.bot && p.connected === false && row.slot !== you;
  }
  return out;
}

export class Hud {
  constructor({ scoreboard, you }) {
    this.rows = scoreboard; // the title module's: state → [{ slot, score, note }]
    this.you = you; // () => our slot or null
    this.board = $("scoreboard");
    this.conn = $("conn-state");
    this.rtt = $("rtt");
    this.net = $("net");
    this.overlay = $("overlay");
    this.overlayText = $("overlay-text");
    this.overlayDetail = $("overlay-detail");
    this.result = $("result");
    this.lastBoard = "";
  }

  connection(status, detail) {
    const labels = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" };
    setText(this.conn, labels[status] ?? status);
    this.conn.dataset.state = status;
    this.conn.title = detail || "";
  }

  roundTrip(ms) {
    setText(this.rtt, ms === null ? "RTT —" : `RTT ${Math.round(ms)} ms`);
  }

  // The network badge: arrival jitter (ms) and the share of ticks lost (0..1).
  network(jitter, loss) {
    setText(this.net, `jitter ${Math.round(jitter)} ms · loss ${(loss * 100).toFixed(loss < 0.1 ? 1 : 0)} %`);
  }

  scoreboard(state, players) {
    const list = rows(this.rows, state, players, this.you());
    const key = JSON.stringify(list) + this.you();
    if (key === this.lastBoard) return;
    this.lastBoard = key;
    this.board.replaceChildren(...list.map((row) => {
      const li = document.createElement("li");
      li.dataset.slot = row.slot;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = slotColor(row.slot);
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = row.name + (row.slot === this.you() ? " (you)" : "") + (row.away ? " · away" : "");
      const note = document.createElement("span");
      note.className = "note";
      note.textContent = row.note;
      const score = document.createElement("strong");
      score.className = "score";
      score.textContent = row.score;
      li.append(swatch, name, note, score);
      return li;
    }));
  }

  // A message over the field (null hides it).
  show(text, detail = "") {
    this.overlay.hidden = text === null;
    setText(this.overlayText, text ?? "");
    setText(this.overlayDetail, detail);
  }

  over({ headline, summary }) {
    this.show(null);
    setText($("result-headline"), headline);
    setText($("result-summary"), summary);
    this.result.hidden = false;
    $("again")?.focus();
  }
}
