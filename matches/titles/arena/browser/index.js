// Thrust Arena in the browser: what the match page and the replay viewer import (docs/titles.md).
export { draw, world } from "./render.js";
export { controls } from "./controls.js";
export { predict } from "./predict.js";

export const touch = [
  { control: "left", label: "⟲" },
  { control: "right", label: "⟳" },
  { control: "thrust", label: "Thrust" },
  { control: "fire", label: "Fire" },
];

// One scoreboard row per slot: kills, and deaths until the player leaves.
export function scoreboard(state) {
  return state.ships.map((s, slot) => ({ slot, score: `${s.kills}`, note: s.active ? `${s.deaths} deaths` : "left" }));
}
