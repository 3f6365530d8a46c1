// Player colours by slot: distinct hues that stay readable on the dark field (WCAG AA
// against --bg for text), shared by the canvas and the scoreboard.
export const FIELD = {
  bg: "#0b0e14",
  line: "#2a3140",
  text: "#e8ecf4",
  muted: "#a9b3c6",
};

// The first 16 slots: hand-picked (slot 12 was a near twin of slot 0's blue: now magenta).
export const SLOT_COLORS = [
  "#5ad1ff", "#ffb13b", "#7ee787", "#ff7b9c",
  "#c297ff", "#f2e85c", "#5cf2d6", "#ff8f5c",
  "#9fb7ff", "#e0a3ff", "#b5f26b", "#ff6b6b",
  "#ff5ce1", "#ffd66b", "#8cffb5", "#ffa3c8",
];

export const MAX_SLOTS = 64; // Thrust Arena's most players

const MIN_CONTRAST = 4.5; // WCAG AA for text against FIELD.bg

function luminance([r, g, b]) {
  const lin = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

const hexRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;

// h in degrees, s and l in [0, 1] → [r, g, b] in 0..255.
function hslRgb(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

export const contrast = (color, against = FIELD.bg) => {
  const [hi, lo] = [luminance(hexRgb(color)), luminance(hexRgb(against))].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

// sRGB → CIELAB (D65), for colour differences (ΔE76) as the eye sees them.
function lab(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

const deltaE = (p, q) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);

// Candidates for slots 16 and up: every 10° of hue in four tones, each lightened until it
// reads as text on the field.
function candidates() {
  const out = [];
  for (let hue = 0; hue < 360; hue += 10) {
    for (const [s, l] of [[1, 0.6], [0.85, 0.7], [0.65, 0.78], [1, 0.86]]) {
      let rgb = hslRgb(hue, s, l);
      for (let up = l; contrast(hex(rgb)) < MIN_CONTRAST && up < 0.95; up += 0.02) {
        rgb = hslRgb(hue, s, up);
      }
      if (contrast(hex(rgb)) >= MIN_CONTRAST) out.push(hex(rgb));
    }
  }
  return out;
}

// Slots 16 and up, one at a time: the candidate farthest (ΔE) from every colour taken so far
// (the first candidate on a tie), so that the 64 colours are as far apart as they can be.
function extend(fixed, count) {
  const colors = [...fixed];
  const pool = candidates().map((c) => ({ c, lab: lab(hexRgb(c)), near: Infinity }));
  const taken = (color) => {
    const p = lab(hexRgb(color));
    for (const q of pool) q.near = Math.min(q.near, deltaE(p, q.lab));
  };
  colors.forEach(taken);
  while (colors.length < count) {
    const best = pool.reduce((a, q) => (q.near > a.near ? q : a));
    colors.push(best.c);
    taken(best.c);
  }
  return colors;
}

const COLORS = extend(SLOT_COLORS, MAX_SLOTS);

export const slotColor = (slot) => COLORS[slot % COLORS.length];
