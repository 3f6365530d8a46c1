// Player colours by slot: distinct hues that stay readable on the dark field (WCAG AA
// against --bg for text), shared by the canvas and the scoreboard.
export const SLOT_COLORS = [
  "#5ad1ff", "#ffb13b", "#7ee787", "#ff7b9c",
  "#c297ff", "#f2e85c", "#5cf2d6", "#ff8f5c",
  "#9fb7ff", "#e0a3ff", "#b5f26b", "#ff6b6b",
  "#6bd0ff", "#ffd66b", "#8cffb5", "#ffa3c8",
];

export const slotColor = (slot) => SLOT_COLORS[slot % SLOT_COLORS.length];

export const FIELD = {
  bg: "#0b0e14",
  line: "#2a3140",
  text: "#e8ecf4",
  muted: "#a9b3c6",
};
