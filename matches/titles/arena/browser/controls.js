// Thrust Arena's controls: the mouse aims (left fires, right thrusts), keys steer, thrust and
// fire; the held control state is sent when it changes, and every frame while the mouse aims.
import { HeldSender, KEYS, isTyping, listen, touchButtons } from "../../frontend/input.js";

const AIM_STEP = 0.02; // radians: finer than the snapshot's two decimals is noise

export function controls({ send, canvas, touchRoot, shipScreen, seenTick = () => null }) {
  const offs = [];
  const keys = new Set();
  const buttons = new Set(); // mouse and touch: "fire", "thrust", "left", "right"
  // Firing says which tick is on screen (the server checks the shots against it: lag
  // compensation, README.md); added as it is sent, so that it never counts as a change.
  const sender = new HeldSender((input) => {
    const seen = input.fire ? seenTick() : null;
    return send(seen === null ? input : { ...input, seen });
  });
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
