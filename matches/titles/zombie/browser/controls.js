// Zombie Siege's controls: WASD / arrows walk (held), the mouse aims, the left button or
// Space shoots; touch: the arrow buttons walk, a finger on the field aims, Fire shoots. The
// held state is sent when it changes, and every frame while the mouse aims (the player
// moves under a still pointer).
import { HeldSender, KEYS, isTyping, listen, touchButtons } from "../../frontend/input.js";

const AIM_STEP = 0.02; // radians: finer than the snapshot's two decimals is noise

export function controls({ send, canvas, touchRoot, shipScreen }) {
  const offs = [];
  const held = new Set(); // "up", "down", "left", "right", "fire" from keys, mouse and touch
  const sender = new HeldSender(send);
  let pointer = null;
  let lastAim = 0;
  const current = () => {
    const input = {
      mx: (held.has("right") ? 1 : 0) - (held.has("left") ? 1 : 0),
      my: (held.has("down") ? 1 : 0) - (held.has("up") ? 1 : 0),
      fire: held.has("fire"),
    };
    const me = pointer && shipScreen();
    if (me) lastAim = Math.round(Math.atan2(pointer.y - me.y, pointer.x - me.x) / AIM_STEP) * AIM_STEP;
    input.aim = lastAim;
    return input;
  };
  const update = () => sender.offer(current());
  listen(window, "keydown", (e) => {
    const name = KEYS[e.code];
    if (!name || isTyping(e)) return;
    e.preventDefault();
    held.add(name);
    update();
  }, undefined, offs);
  listen(window, "keyup", (e) => {
    const name = KEYS[e.code];
    if (!name) return;
    held.delete(name);
    update();
  }, undefined, offs);
  listen(window, "blur", () => {
    held.clear();
    update();
  }, undefined, offs);
  listen(canvas, "pointermove", (e) => {
    pointer = { x: e.clientX, y: e.clientY };
    update();
  }, undefined, offs);
  listen(canvas, "pointerdown", (e) => {
    e.preventDefault();
    pointer = { x: e.clientX, y: e.clientY };
    if (e.pointerType === "mouse" && e.button === 0) held.add("fire");
    update();
  }, undefined, offs);
  listen(window, "pointerup", (e) => {
    if (e.pointerType === "mouse") {
      held.delete("fire");
      update();
    }
  }, undefined, offs);
  listen(canvas, "contextmenu", (e) => e.preventDefault(), undefined, offs);
  touchButtons(touchRoot, offs, (name) => {
    held.add(name);
    update();
  }, (name) => {
    held.delete(name);
    update();
  });
  return { offs, resend: () => sender.resend(current()), frame: update };
}
