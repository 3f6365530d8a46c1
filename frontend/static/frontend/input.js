// Keyboard, mouse and touch → a title's input messages: the pieces each title's controls
// (its browser module's `controls`, docs/titles.md) are built from.
//
// Held control states (Pong, Arena) go through a HeldSender: sent when they change, and
// again after a reconnect. Events (Snake turns) are simply sent. Nothing here knows a title.

export const KEYS = {
  ArrowUp: "up", KeyW: "up",
  ArrowDown: "down", KeyS: "down",
  ArrowLeft: "left", KeyA: "left",
  ArrowRight: "right", KeyD: "right",
  Space: "fire",
};

const MIN_GAP_MS = 50; // at most 20 held-state messages a second (the gateway allows 60)

export function isTyping(event) {
  const el = event.target;
  return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

// Sends the newest control state when it differs from the last one sent, spaced MIN_GAP_MS.
export class HeldSender {
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

export function listen(target, type, handler, options, offs) {
  target.addEventListener(type, handler, options);
  offs.push(() => target.removeEventListener(type, handler, options));
}

// Touch buttons: [data-control=NAME] inside `root`; press/release call back with the name.
export function touchButtons(root, offs, onPress, onRelease) {
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

// The title's touch buttons, from its module's `touch` data: [{ control, label }, ...].
export function renderTouch(root, buttons = []) {
  root.replaceChildren(...buttons.map(({ control, label }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.control = control;
    button.textContent = label;
    return button;
  }));
}

// The title module's `controls(options)` gives { offs, resend, frame }; null if it has none.
export function createControls(title, options) {
  if (!title.controls) return null;
  const controls = title.controls(options);
  return {
    resend: controls.resend,
    frame: controls.frame,
    detach() {
      for (const off of controls.offs) off();
    },
  };
}
