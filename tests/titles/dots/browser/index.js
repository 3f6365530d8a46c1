// Dots in the browser: a whole title module in one file (docs/titles.md, "A title package").
import { KEYS, isTyping, listen, touchButtons } from "../../frontend/input.js";
import { FIELD, slotColor } from "../../frontend/palette.js";

const CELL = 40; // world units per grid cell

export const world = (state) => ({ w: state.w * CELL, h: state.h * CELL });

// Dots jump from cell to cell: the newer snapshot is drawn as it is.
export function draw(ctx, { b }, view) {
  ctx.fillStyle = FIELD.bg;
  ctx.fillRect(0, 0, b.w * CELL, b.h * CELL);
  ctx.fillStyle = FIELD.text;
  ctx.fillRect(b.star[0] * CELL + 12, b.star[1] * CELL + 12, CELL - 24, CELL - 24);
  b.dots.forEach((dot, slot) => {
    ctx.fillStyle = slotColor(slot);
    ctx.beginPath();
    ctx.arc((dot.x + 0.5) * CELL, (dot.y + 0.5) * CELL, slot === view.slot ? 16 : 12, 0, Math.PI * 2);
    ctx.fill();
  });
  return null;
}

export function scoreboard(state) {
  return state.scores.map((score, slot) => ({ slot, score: String(score), note: "stars" }));
}

export const touch = [
  { control: "left", label: "◀" },
  { control: "up", label: "▲" },
  { control: "down", label: "▼" },
  { control: "right", label: "▶" },
];

export function controls({ send, touchRoot }) {
  const offs = [];
  const move = (name) => send({ move: name });
  listen(window, "keydown", (e) => {
    const name = KEYS[e.code];
    if (!name || name === "fire" || isTyping(e)) return;
    e.preventDefault();
    move(name);
  }, undefined, offs);
  touchButtons(touchRoot, offs, move, () => {});
  return { offs, resend() {}, frame() {} };
}
