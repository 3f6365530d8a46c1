// Zombie Siege in the browser: what the match page and the replay viewer import (docs/titles.md).
export { draw, world } from "./render.js";
export { controls } from "./controls.js";
export { predict } from "./predict.js";

export const touch = [
  { control: "left", label: "◀" },
  { control: "up", label: "▲" },
  { control: "down", label: "▼" },
  { control: "right", label: "▶" },
  { control: "fire", label: "Fire" },
];

// One scoreboard row per slot: kills, and health or why the player is out.
export function scoreboard(state) {
  return state.team.map((p, slot) => ({
    slot,
    score: `${p.kills}`,
    note: !p.active ? "left" : p.down ? "down" : `${p.hp} hp · ${p.ammo} ammo`,
  }));
}
