// Snake in the browser: what the match page and the replay viewer import (docs/titles.md).
export { draw, world } from "./render.js";
export { controls } from "./controls.js";
export { predict } from "./predict.js";

export const touch = [
  { control: "left", label: "◀" },
  { control: "up", label: "▲" },
  { control: "down", label: "▼" },
  { control: "right", label: "▶" },
];

// One scoreboard row per slot: food eaten, and the length while alive.
export function scoreboard(state) {
  return state.snakes.map((s, slot) => ({ slot, score: `${s.score}`, note: s.alive ? `length ${s.len}` : "out" }));
}
