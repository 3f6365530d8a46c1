// Snake's controls: every arrow / WASD press, swipe on the field or touch button is a turn.
import { KEYS, isTyping, listen, touchButtons } from "../../frontend/input.js";

export function controls({ send, canvas, touchRoot }) {
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
