// The match page: one socket, one timeline, the title's module drawing every animation frame.
import { api } from "./api.js";
import { KEYS, createControls, renderTouch } from "./input.js";
import { Hud, nameOf } from "./hud.js";
import { MatchSocket } from "./net.js";
import { Predictor } from "./predict.js";
import { Probe } from "./probe.js";
import { offerRematch } from "./rematch.js";
import { Timeline } from "./timeline.js";

const config = JSON.parse(document.getElementById("match-config").textContent);
// The title's browser module (docs/titles.md): renderer, controls, scoreboard, touch buttons.
const title = await import(config.module);
renderTouch(document.getElementById("touch"), title.touch);
const canvas = document.getElementById("field");
const ctx = canvas.getContext("2d");
const stage = document.getElementById("stage");

// What the page knows, also exposed for tests and the curious (read-only by convention).
const game = {
  title: config.title,
  match: config.match,
  role: config.role,
  slot: config.slot,
  status: config.status,
  startsAt: config.starts_at ? Date.parse(config.starts_at) : null,
  players: config.players,
  tickHz: config.tick_hz,
  catchUp: 0, // ticks the server catches a late input up (welcome.catch_up_ticks)
  tick: null,
  state: null,
  paused: [],
  connection: "idle",
  rtt: null,
  over: null,
  frames: 0,
  probe: new Probe(), // what bench_network measures
  drawn: null, // the last frame's {a, b, alpha, own}: the states blended, our predicted object
  welcomes: 0,
  statuses: [config.status], // every status seen, in order (tests check the countdown)
  // Drop the socket as a network failure would (tests, and trying the reconnect by hand).
  dropConnection: () => socket.drop(),
};
window.__game = game;

let clockOffset = 0; // server ms − our ms, from the welcome
// Prediction of our own player and the adaptive delay for the rest; localStorage
// "arcade.netcode" = "off" draws server states only, as before (bench_network compares both).
const NETCODE = localStorage.getItem("arcade.netcode") !== "off";
const newTimeline = () => new Timeline(game.tickHz, { adaptive: NETCODE });
let timeline = newTimeline();
let predictor = null;
let lastFrameAt = null;
let badgeAt = 0;
let drawnTick = null; // the (fractional) tick the last frame showed
let ship = null; // our ship's last drawn position (arena aim), world units
let view = { w: 1, h: 1, scale: 1 };
const hud = new Hud({ scoreboard: title.scoreboard, you: () => game.slot });
const socket = new MatchSocket(game.match);
let controls = null;
let playersFresh = false; // line-up fetched since the match runs (bots included)
let resendTimer = null;
const RESEND_AFTER_MS = 250;

function setupControls() {
  controls?.detach();
  controls = null;
  document.body.dataset.role = game.role;
  document.getElementById("spectator-banner").hidden = game.role !== "spectator";
  if (game.role !== "player" || game.over) return;
  predictor = NETCODE && title.predict && game.role === "player" ? new Predictor(title.predict, {
    slot: game.slot,
    clock: (now) => timeline.clockTick(now),
    rttTicks: () => (socket.rtt === null ? null : socket.rtt / timeline.dt),
    local: (now) => now / timeline.dt,
    catchUp: game.catchUp,
  }) : null;
  controls = createControls(title, {
    send: (input) => {
      const now = performance.now();
      const at = predictor ? predictor.stamp(now) : null;
      const sent = socket.sendInput(input, at);
      if (sent) predictor?.sent(socket.seq, input, now, at);
      return sent;
    },
    canvas,
    touchRoot: document.getElementById("touch"),
    seenTick: () => (drawnTick === null ? null : Math.max(0, Math.floor(drawnTick))),
    shipScreen: () => {
      if (!ship) return null;
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + ship.x * (rect.width / view.w), y: rect.top + ship.y * (rect.height / view.h) };
    },
  });
}

function fit() {
  if (!game.state) return;
  const { w, h } = title.world(game.state);
  const maxW = stage.clientWidth;
  const maxH = Math.max(200, window.innerHeight * 0.72);
  const scale = Math.min(maxW / w, maxH / h);
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${Math.floor(w * scale)}px`;
  canvas.style.height = `${Math.floor(h * scale)}px`;
  canvas.width = Math.floor(w * scale * dpr);
  canvas.height = Math.floor(h * scale * dpr);
  ctx.setTransform(scale * dpr, 0, 0, scale * dpr, 0, 0);
  view = { w, h, scale };
}

async function refreshPlayers() {
  // Bots take their seats at the start, after our welcome: ask once for the final line-up.
  try {
    const { match } = await api.match(game.match);
    game.players = match.players;
  } catch {
    // the names stay as they were; the bots are still called "Bot n"
  }
}

// A match only moves forward; a late `status` (sent on a join) must not undo a start.
const STATUS_ORDER = ["waiting", "countdown", "running", "finished", "aborted"];

function setStatus(status) {
  if (STATUS_ORDER.indexOf(status) < STATUS_ORDER.indexOf(game.status)) return;
  game.status = status;
  if (game.statuses[game.statuses.length - 1] !== status) game.statuses.push(status);
}

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      game.welcomes += 1;
      game.role = message.role;
      game.slot = message.slot;
      setStatus(message.status);
      game.players = message.players;
      game.startsAt = message.starts_at ? Date.parse(message.starts_at) : null;
      game.tickHz = message.tick_hz;
      game.catchUp = message.catch_up_ticks ?? 0;
      clockOffset = message.server_ms - Date.now();
      // Spectators see a running match a few seconds late (so that watching cannot help a player).
      document.getElementById("spectator-delay").textContent =
        message.delay_s > 0 ? ` You see it ${Math.round(message.delay_s)} s behind the players.` : "";
      timeline = newTimeline();
      playersFresh = false;
      setupControls();
      controls?.resend();
      break;
    case "status":
      setStatus(message.status);
      game.players = message.players;
      game.startsAt = message.starts_at ? Date.parse(message.starts_at) : null;
      break;
    case "state": {
      const first = game.state === null;
      setStatus("running");
      if (!playersFresh) {
        playersFresh = true;
        refreshPlayers();
      }
      game.tick = message.tick;
      game.state = message.state;
      game.paused = message.paused ?? [];
      timeline.push(message.tick, message.state);
      if (predictor && message.acks) {
        // A new page: our seq counter starts above what the server applied for the seat.
        socket.seq = Math.max(socket.seq, message.acks[game.slot] ?? 0);
        game.probe.correction(predictor.reconcile(message.state, message.tick, message.acks, message.paused));
      }
      if (first) fit();
      hud.scoreboard(message.state, game.players);
      break;
    }
    case "ack":
      predictor?.arrived(message.seq, message.tick);
      break;
    case "over":
      finish(message);
      break;
    case "error":
      console.warn("server:", message.code, message.reason);
      // A numeric ref is the seq of an input the server refused: it never applies.
      if (typeof message.ref === "number") predictor?.refused(message.ref);
      // An input the server could not queue (its store was out of reach): the held controls go
      // again shortly, or the paddle would stay wrong until the next key change.
      if (message.code === "unavailable" && message.ref != null && !resendTimer) {
        resendTimer = setTimeout(() => {
          resendTimer = null;
          controls?.resend();
        }, RESEND_AFTER_MS);
      }
      break;
  }
}

function finish(message) {
  game.over = message;
  setStatus(message.status ?? "finished");
  controls?.detach();
  controls = null;
  socket.stop();
  if (message.status === "aborted" || !message.result) {
    hud.over({ headline: "Match aborted", summary: message.reason || "" });
    return;
  }
  offerReplay();
  if (game.role === "player") offerRematch(game.match, game.slot);
  const { winner, summary } = message.result;
  let headline;
  if (winner === null || winner === undefined) headline = "Draw";
  else if (winner === game.slot && game.role === "player") headline = "You win!";
  else headline = `${nameOf(game.players, winner)} wins`;
  hud.over({ headline, summary: summary ? `Final score ${summary}` : "" });
}

// The replay is stored with the result: once the match is over, ask whether it has one.
async function offerReplay() {
  const link = document.getElementById("watch-replay");
  if (!link || !link.hidden) return;
  try {
    const { match } = await api.match(game.match);
    link.hidden = !match.has_replay;
  } catch {
    // no link then; the player page lists the replay too
  }
}

// While the match waits: the host's Start button, "waiting for the host" for the others, and
// a link to share. The host is the human in the lowest slot (docs/protocol.md).
function waitingBar() {
  const bar = document.getElementById("waiting-bar");
  bar.hidden = game.status !== "waiting";
  if (bar.hidden) return;
  const host = game.players.filter((p) => !p.bot).reduce((a, p) => (a && a.slot < p.slot ? a : p), null);
  const hosting = game.role === "player" && host !== null && host.slot === game.slot;
  document.getElementById("host-controls").hidden = !hosting;
  document.getElementById("waiting-host").hidden = hosting || game.role !== "player";
  const bots = document.getElementById("start-bots").checked;
  document.getElementById("start").disabled = !bots && game.players.length < config.min_players;
}

async function startMatch(event) {
  const status = document.getElementById("waiting-status");
  event.target.disabled = true;
  try {
    await api.start(game.match, document.getElementById("start-bots").checked);
    status.textContent = "Starting…";
  } catch (err) {
    status.textContent = err.message;
    event.target.disabled = false;
  }
}

async function copyLink() {
  const status = document.getElementById("waiting-status");
  try {
    await navigator.clipboard.writeText(location.href);
    status.textContent = "Link copied: send it to your friends.";
  } catch {
    status.textContent = `Share this address: ${location.href}`;
  }
}

// The overlay says why the field is not moving, if it is not.
function overlay(now) {
  if (game.over) return;
  if (socket.status === "reconnecting" && game.connection !== "open") {
    hud.show("Reconnecting…", socket.detail);
    return;
  }
  if (game.status === "waiting") {
    const seats = config.max_players;
    hud.show("Waiting for players", `${game.players.length} of ${seats} seats taken · copy the link to invite`);
  } else if (game.status === "countdown" || (game.status === "running" && !game.state)) {
    const left = game.startsAt ? (game.startsAt - (Date.now() + clockOffset)) / 1000 : 0;
    hud.show(left > 0.05 ? String(Math.ceil(left)) : "Go!", "Get ready");
  } else if (game.paused.length) {
    const names = game.paused.map((slot) => nameOf(game.players, slot)).join(", ");
    hud.show("Paused", `waiting for ${names} to reconnect`);
  } else {
    hud.show(null);
  }
}

function frame(now) {
  requestAnimationFrame(frame);
  overlay(now);
  waitingBar();
  const f = timeline.frame(now);
  if (!f) return;
  if (now - badgeAt > 1000) {
    badgeAt = now;
    hud.network(timeline.jitter, timeline.loss);
  }
  timeline.settle();
  if (predictor?.base && !game.over) {
    predictor.fade(lastFrameAt === null ? 0 : now - lastFrameAt);
    f.own = predictor.drawn();
  }
  lastFrameAt = now;
  const drawn = title.draw(ctx, f, {
    slot: game.role === "player" ? game.slot : null,
    name: (slot) => nameOf(game.players, slot),
    tickHz: game.tickHz,
  });
  ship = drawn?.ship ?? null;
  drawnTick = f.tick;
  game.drawn = f;
  controls?.frame();
  game.frames += 1;
  // Nothing moves in the server's states once the match is over or paused: no freezes then
  // (a remote paddle's last `dir` held on the final state is not one).
  const moving = !game.over && !game.paused.length && !f.b.finished;
  const probe = moving ? drawn?.probe : { own: drawn?.probe?.own ?? null, moving: [] };
  game.probe.frame(probe, undefined, timeline.clamp, performance.now() - timeline.latest.at);
}

socket.addEventListener("message", (e) => onMessage(e.detail));
socket.addEventListener("status", (e) => {
  game.connection = e.detail.status;
  hud.connection(e.detail.status, e.detail.detail);
  if (e.detail.status === "closed" && !game.over && e.detail.detail) {
    hud.show("Disconnected", e.detail.detail);
  }
});
socket.addEventListener("rtt", (e) => {
  game.rtt = e.detail;
  hud.roundTrip(e.detail);
});

window.addEventListener("resize", fit);
// Before the title's controls see the key: the instant the player asked.
window.addEventListener("keydown", (e) => {
  if (!e.repeat && KEYS[e.code]) game.probe.press();
}, true);
document.getElementById("again")?.addEventListener("click", () => {
  location.assign(`/?play=${encodeURIComponent(game.title)}`);
});
document.getElementById("leave")?.addEventListener("click", async (event) => {
  if (game.role === "player" && game.status === "running" && !game.over &&
      !confirm("Leave the match? You forfeit it.")) return;
  event.target.disabled = true;
  try {
    if (game.role === "player" && !game.over) await api.leave(game.match);
  } finally {
    location.assign("/");
  }
});
document.getElementById("start").addEventListener("click", startMatch);
// The button follows the box at once, not at the next drawn frame.
document.getElementById("start-bots").addEventListener("change", waitingBar);
document.getElementById("copy-link").addEventListener("click", copyLink);
const joinButton = document.getElementById("join");
joinButton?.addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    await api.join(game.match);
    location.reload(); // the new socket is welcomed as a player
  } catch (err) {
    hud.show("Could not join", err.message);
    event.target.disabled = false;
  }
});
// Disabled in the page until now: a click before this module ran would do nothing.
if (joinButton) joinButton.disabled = false;

setupControls();
hud.connection("connecting", "");
socket.connect();
requestAnimationFrame(frame);
