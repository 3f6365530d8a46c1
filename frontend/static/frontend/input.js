// Keyboard, mouse and touch → the title's input messages (docs/games.md, "Input").
//
// Pong and Arena inputs are held control states: we send one when it changes (and again
// after a reconnect). Snake turns are events: every key press is sent. Nothing here knows
// the rules; it only maps devices to the documented input shapes.

const KEYS = {
  ArrowUp: "up", KeyW: "up",
  ArrowDown: "down", KeyS: "down",
  ArrowLeft: "left", KeyA: "left",
  ArrowRight: "right", KeyD: "right",
  Space: "fire",
};

const AIM_STEP = 0.02; // radians: finer than the snapshot's two decimals is noise
const MIN_GAP_MS = 50; // at most 20 held-state messages a second (the gateway allows 60)

function isTyping(event) {
  const el = event.target;
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

// Sends the newest control state when it differs from the last one sent, spaced MIN_GAP_MS.
class HeldSender {
  constructor(send) {
    this.send = send;
    this.last = null;
    this.lastAt = -Infinity;
    this.timer = null;
    this.pending = null;
  }

  offer(input) {
    this.pending = input;
    if (JSON.stringify(input) === this.last) {
      this.pending = null;
      return;
    }
    const wait = this.lastAt + MIN_GAP_MS - performance.now();
    if (wait <= 0) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    if (this.send(this.pending)) {
      this.last = JSON.stringify(this.pending);
      this.lastAt = performance.now();
    }
    this.pending = null;
  }

  resend(input) {
    this.last = null;
    this.offer(input);
  }
}

function listen(target, type, handler, options, offs) {
  target.addEventListener(type, handler, options);
  offs.push(() => target.removeEventListener(type, handler, options));
}

// Touch buttons: [data-control=NAME] inside `root`; press/release call back with the name.
function touchButtons(root, offs, onPress, onRelease) {
  if (!root) return;
  for (const button of root.querySelectorAll("[data-control]")) {
    const name = button.dataset.control;
    const down = (e) => {
      e.preventDefault();
      button.setPointerCapture?.(e.pointerId);
      button.classList.add("held");
      onPress(name);
    };
    const up = (e) => {
      e.preventDefault();
      button.classList.remove("held");
      onRelease(name);
    };
    listen(button, "pointerdown", down, undefined, offs);
    listen(button, "pointerup", up, undefined, offs);
    listen(button, "pointercancel", up, undefined, offs);
    listen(button, "contextmenu", (e) => e.preventDefault(), undefined, offs);
  }
}

function pong({ send, touchRoot }) {
  const offs = [];
  const held = new Set();
  const sender = new HeldSender(send);
  const current = () => ({ dir: (held.has("down") ? 1 : 0) - (held.has("up") ? 1 : 0) });
  const press = (name) => {
    if (name === "up" || name === "down") held.add(name);
    sender.offer(current());
  };
  const release = (name) => {
    held.delete(name);
    sender.offer(current());
  };
  listen(window, "keydown", (e) => {
    const name = KEYS[e.code];
    if (!name || isTyping(e)) return;
    e.preventDefault();
    if (!e.repeat) press(name);
  }, undefined, offs);
  listen(window, "keyup", (e) => {
    const name = KEYS[e.code];
    if (name) release(name);
  }, undefined, offs);
  listen(window, "blur", () => {
    held.clear();
    sender.offer(current());
  }, undefined, offs);
  touchButtons(touchRoot, offs, press, release);
  return { offs, resend: () => sender.resend(current()), frame() {} };
}

function snake({ send, canvas, touchRoot }) {
  const offs = [];
  const turn = (dir) => send({ turn: dir });
  listen(window, "keydown", (e) => {
    const name = KEYS[e.code];
    if (!name || name === "fire" || isTyping(e)) return;
    e.preventDefault();
    if (!e.repeat) turn(name);
  }, undefined, offs);
  // A swipe on the field turns toward its main direction.
  let start = null;
  listen(canvas, "pointerdown", (e) => {
    start = { x: e.clientX, y: e.clientY };
  }, undefined, offs);
  listen(canvas, "pointermove", (e) => {
    if (!start) return;
    const dx = e.clientX - start.x;
    const dy = e.clientY - start.y;
    if (Math.hypot(dx, dy) < 24) return;
    turn(Math.abs(dx) > Math.abs(dy) ? (dx > 0 ? "right" : "left") : dy > 0 ? "down" : "up");
    start = { x: e.clientX, y: e.clientY };
  }, undefined, offs);
  listen(window, "pointerup", () => {
    start = null;
  }, undefined, offs);
  touchButtons(touchRoot, offs, turn, () => {});
  return { offs, resend() {}, frame() {} };
}

function arena({ send, canvas, touchRoot, shipScreen }) {
  const offs = [];
  const keys = new Set();
  const buttons = new Set(); // mouse and touch: "fire", "thrust", "left", "right"
  const sender = new HeldSender(send);
  let pointer = null; // last aiming point in client pixels, while the mouse aims
  const aim = () => {
    if (!pointer || keys.has("left") || keys.has("right")) return null;
    const ship = shipScreen();
    if (!ship) return null;
    const a = Math.atan2(pointer.y - ship.y, pointer.x - ship.x);
    return Math.round(a / AIM_STEP) * AIM_STEP;
  };
  const held = (name) => keys.has(name) || buttons.has(name);
  const current = () => {
    const input = {
      thrust: held("up") || held("thrust"),
      fire: held("fire"),
      turn: (held("right") ? 1 : 0) - (held("left") ? 1 : 0),
    };
    const a = aim();
    if (a !== null) input.aim = a;
    return input;
  };
  const update = () => sender.offer(current());

  listen(window, "keydown", (e) => {
    const name = KEYS[e.code];
    if (!name || name === "down" || isTyping(e)) return;
    e.preventDefault();
    if (name === "left" || name === "right") pointer = null; // the keyboard steers now
    keys.add(name);
    update();
  }, undefined, offs);
  listen(window, "keyup", (e) => {
    const name = KEYS[e.code];
    if (!name) return;
    keys.delete(name);
    update();
  }, undefined, offs);
  listen(window, "blur", () => {
    keys.clear();
    buttons.clear();
    update();
  }, undefined, offs);
  listen(canvas, "pointermove", (e) => {
    pointer = { x: e.clientX, y: e.clientY };
    update();
  }, undefined, offs);
  listen(canvas, "pointerdown", (e) => {
    e.preventDefault();
    pointer = { x: e.clientX, y: e.clientY };
    // Mouse: left fires, right thrusts. A finger on the field aims only (buttons do the rest).
    if (e.pointerType === "mouse") buttons.add(e.button === 2 ? "thrust" : "fire");
    update();
  }, undefined, offs);
  listen(window, "pointerup", (e) => {
    if (e.pointerType === "mouse") {
      buttons.delete(e.button === 2 ? "thrust" : "fire");
      update();
    }
  }, undefined, offs);
  listen(canvas, "contextmenu", (e) => e.preventDefault(), undefined, offs);
  touchButtons(touchRoot, offs, (name) => {
    buttons.add(name);
    update();
  }, (name) => {
    buttons.delete(name);
    update();
  });
  // The ship moves under a still mouse: the angle to the pointer changes every frame.
  return { offs, resend: () => sender.resend(current()), frame: update };
}

const FACTORIES = { pong, snake, arena };

export function createControls(title, options) {
  const factory = FACTORIES[title];
  if (!factory) return null;
  const controls = factory(options);
  return {
    resend: controls.resend,
    frame: controls.frame,
    detach() {
      for (const off of controls.offs) off();
    },
  };
}
