// Pong's controls: ↑ ↓ / W S or the touch buttons hold a direction, sent when it changes.
import { HeldSender, KEYS, isTyping, listen, touchButtons } from "../../frontend/input.js";

export function controls({ send, touchRoot }) {
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
