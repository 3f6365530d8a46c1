// The replay viewer: frames re-simulated by the server (frames.js), drawn by the same
// renderers as live play, blended between two ticks at the display rate. Play / pause, a
// seek bar over every tick, four speeds, and keys for all of it.
import { FrameStore } from "./frames.js";
import { Hud } from "./hud.js";

const SPEEDS = [0.5, 1, 2, 4];
const LOADING_AFTER_MS = 200; // a quick chunk fetch shows no "Loading…" flash
const $ = (id) => document.getElementById(id);

const config = JSON.parse($("replay-config").textContent);
// The title's browser module (docs/titles.md): the same renderer and scoreboard as live play.
const title = await import(config.module);
const canvas = $("field");
const ctx = canvas.getContext("2d");
const stage = $("stage");
const playButton = $("play");
const bar = $("seek");
const store = new FrameStore(config.match, { ticks: config.ticks, size: config.chunk });
const hud = new Hud({ scoreboard: title.scoreboard, you: () => null });
const view = {
  slot: null,
  name: (slot) => config.players.find((p) => p.slot === slot)?.name ?? `Bot ${slot + 1}`,
  tickHz: config.tick_hz,
};

// What the viewer shows, also exposed for tests and the curious (read-only by convention).
const replay = {
  match: config.match,
  title: config.title,
  ticks: config.ticks,
  tickHz: config.tick_hz,
  t: 0, // the (fractional) tick on screen
  tick: null, // the whole tick of the last frame drawn
  state: null, // its snapshot
  playing: false,
  speed: 1,
  ended: false,
  frames: 0, // canvas redraws
  get lastTick() { return store.lastTick; },
  get loaded() { return store.loaded; },
  get fetches() { return store.fetches; },
  play: () => play(),
  pause: () => pause(),
  seek: (tick) => seek(tick),
  setSpeed: (speed) => setSpeed(speed),
};
window.__replay = replay;

let lastNow = null;
let missingSince = null; // when the frames to draw went missing (a fetch under way)
let drawnKey = "";
let dragging = false;
let sized = false;

// --- controls ----------------------------------------------------------------------------

function play() {
  if (store.lastTick <= replay.t) replay.t = 0; // at the end: from the start again
  replay.playing = true;
}

function pause() {
  replay.playing = false;
}

function seek(tick) {
  replay.t = Math.max(0, Math.min(store.lastTick, Math.round(tick)));
  store.want(replay.t);
}

function step(direction) {
  pause();
  seek(direction > 0 ? Math.floor(replay.t) + 1 : Math.ceil(replay.t) - 1);
}

function setSpeed(speed) {
  if (!SPEEDS.includes(speed)) return;
  replay.speed = speed;
  for (const button of document.querySelectorAll("[data-speed]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === speed));
  }
}

playButton.addEventListener("click", () => (replay.playing ? pause() : play()));
for (const button of document.querySelectorAll("[data-speed]")) {
  button.addEventListener("click", () => setSpeed(Number(button.dataset.speed)));
}
bar.addEventListener("input", () => seek(Number(bar.value)));
bar.addEventListener("pointerdown", () => (dragging = true));
window.addEventListener("pointerup", () => (dragging = false));

document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  // A focused button or link keeps its own Space; the seek bar keeps ↑ ↓ and Page keys.
  const ownSpace = target !== bar && target.closest?.("button, a, input, textarea, select");
  const seconds = 5 * replay.tickHz;
  const keys = {
    " ": ownSpace ? null : () => (replay.playing ? pause() : play()),
    k: () => (replay.playing ? pause() : play()),
    ArrowRight: () => (event.shiftKey ? seek(replay.t + seconds) : step(1)),
    ArrowLeft: () => (event.shiftKey ? seek(replay.t - seconds) : step(-1)),
    Home: () => seek(0),
    End: () => seek(store.lastTick),
    1: () => setSpeed(0.5),
    2: () => setSpeed(1),
    3: () => setSpeed(2),
    4: () => setSpeed(4),
  };
  const action = keys[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

// --- drawing -----------------------------------------------------------------------------

function fit(state) {
  const { w, h } = title.world(state);
  const scale = Math.min(stage.clientWidth / w, Math.max(200, window.innerHeight * 0.62) / h);
  const dpr = window.devicePixelRatio || 1;
  canvas.style.width = `${Math.floor(w * scale)}px`;
  canvas.style.height = `${Math.floor(h * scale)}px`;
  canvas.width = Math.floor(w * scale * dpr);
  canvas.height = Math.floor(h * scale * dpr);
  ctx.setTransform(scale * dpr, 0, 0, scale * dpr, 0, 0);
  sized = true;
  drawnKey = "";
}

function advance(ms) {
  const end = store.lastTick;
  const target = Math.min(end, replay.t + (ms / 1000) * replay.tickHz * replay.speed);
  if (store.has(Math.ceil(target))) {
    replay.t = target;
  } else if (store.has(Math.floor(target))) {
    replay.t = Math.floor(target); // as far as the frames here go; the rest is on its way
  }
  if (replay.t >= end) {
    replay.t = end;
    pause();
  }
}

// Draw the blend of the two ticks around t; false if either is not here yet.
function draw() {
  const t = replay.t;
  const i = Math.floor(t);
  const j = Math.min(Math.ceil(t), store.lastTick);
  const a = store.get(i);
  const b = store.get(j);
  if (!a || !b) return false;
  if (!sized) fit(b);
  const key = `${t}`;
  if (key === drawnKey) return true; // paused: the picture on screen is this one
  drawnKey = key;
  title.draw(ctx, { a, b, alpha: j === i ? 1 : t - i }, view);
  replay.frames += 1;
  if (replay.tick !== b.tick) {
    replay.tick = b.tick;
    replay.state = b;
    hud.scoreboard(b, config.players);
  }
  return true;
}

const clock = (ticks) => {
  const s = Math.floor(ticks / replay.tickHz);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function updateControls(drawn, now) {
  const whole = Math.floor(replay.t);
  replay.ended = drawn && replay.t >= store.lastTick;
  setText(playButton, replay.playing ? "Pause" : replay.ended ? "Watch again" : "Play");
  setText($("clock"), clock(whole));
  setText($("tick-shown"), String(whole));
  if (!dragging && Number(bar.value) !== whole) bar.value = String(whole);
  if (bar.max !== String(store.lastTick)) bar.max = String(store.lastTick);
  const where = `${clock(whole)}, tick ${whole} of ${store.lastTick}`;
  if (bar.getAttribute("aria-valuetext") !== where) bar.setAttribute("aria-valuetext", where);

  if (drawn) missingSince = null;
  else missingSince ??= now;
  if (!drawn && store.error) {
    hud.show("Could not load the replay", store.final ? store.error.message : `${store.error.message} · trying again`);
  } else if (!drawn && now - missingSince > LOADING_AFTER_MS) {
    hud.show("Loading…", "");
  } else if (replay.ended && !replay.playing) {
    const { headline, summary } = config.result;
    hud.show(headline, summary ? `Final score ${summary}` : "");
  } else {
    hud.show(null);
  }
}

function frame(now) {
  requestAnimationFrame(frame);
  // A tab in the background gets no frames: it resumes where it was, not seconds later.
  const ms = lastNow === null ? 0 : Math.min(now - lastNow, 250);
  lastNow = now;
  if (replay.playing) advance(ms);
  store.want(Math.floor(replay.t));
  const drawn = draw();
  updateControls(drawn, now);
}

window.addEventListener("resize", () => {
  if (replay.state) fit(replay.state);
});
hud.show(null);
store.want(0);
requestAnimationFrame(frame);
