// Pong in the browser: what the match page and the replay viewer import (docs/titles.md).
export { draw, world } from "./render.js";
export { controls } from "./controls.js";
export { predict } from "./predict.js";

export const touch = [
  { control: "up", label: "▲" },
  { control: "down", label: "▼" },
];

// One scoreboard row per slot: its points.
export function scoreboard(state) {
  return state.scores.map((score, slot) => ({ slot, score: String(score), note: "" }));
}
