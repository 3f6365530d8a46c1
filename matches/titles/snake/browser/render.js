// Snake: the grid in cell units; bodies slide one cell per tick between two snapshots.
import { FIELD, slotColor } from "../../frontend/palette.js";
import { lerp } from "../../frontend/timeline.js";

export const world = (state) => ({ w: state.w, h: state.h });

const mid = (cell) => [cell[0] + 0.5, cell[1] + 0.5];
const adjacent = (p, q) => Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) === 1;

// The body's centre line at fraction t of the step from a to b: the head part way into its
// new cell, every cell it still covers, the tail part way out of the cell it leaves.
function bodyPath(before, after, t) {
  const cells = after.body;
  if (!before || !cells.length || !before.body.length || !adjacent(before.body[0], cells[0])) {
    return cells.map(mid);
  }
  const last = cells.length - 1;
  const head = [lerp(before.body[0][0], cells[0][0], t), lerp(before.body[0][1], cells[0][1], t)];
  const points = [mid(head)];
  for (let i = 1; i <= last; i++) points.push(mid(cells[i]));
  // Same length: the tail slides from the cell it leaves (before's last) toward cells[last].
  // One longer (it ate): the tail stayed, nothing to add.
  const from = before.body[last];
  if (from) points.push(mid([lerp(from[0], cells[last][0], t), lerp(from[1], cells[last][1], t)]));
  return points;
}

function grid(ctx, w, h) {
  ctx.fillStyle = FIELD.bg;
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#161b26";
  ctx.lineWidth = 0.04;
  ctx.beginPath();
  for (let x = 1; x < w; x++) {
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h);
  }
  for (let y = 1; y < h; y++) {
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
  }
  ctx.stroke();
  ctx.strokeStyle = FIELD.line; // the walls
  ctx.lineWidth = 0.16;
  ctx.strokeRect(0.08, 0.08, w - 0.16, h - 0.16);
}

// `own`: our snake as frontend/predict.js predicts it (drawn instead of the states' blend).
export function draw(ctx, { a, b, alpha: blendAlpha, own: predicted }, view) {
  const alpha = Math.min(blendAlpha, 1); // a grid: no extrapolation past the newest state
  const { w, h } = b;
  grid(ctx, w, h);
  const stepwise = b.tick - a.tick === 1;

  ctx.fillStyle = "#ff6b6b";
  for (const [x, y] of b.food) {
    ctx.beginPath();
    ctx.arc(x + 0.5, y + 0.5, 0.32, 0, Math.PI * 2);
    ctx.fill();
  }

  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  // Dead snakes first (faded), then the living, ours last so it is never hidden.
  const order = b.snakes
    .map((snake, slot) => ({ snake, slot }))
    .sort((p, q) => (p.snake.alive - q.snake.alive) || ((p.slot === view.slot) - (q.slot === view.slot)));
  let own = null;
  const moving = []; // remote heads in motion (the probe counts them drawn unmoved)
  for (const { snake: shown, slot } of order) {
    const mine = slot === view.slot && predicted;
    const snake = mine ? { ...shown, body: predicted.body, alive: predicted.alive } : shown;
    if (!snake.body.length) continue;
    const before = mine ? predicted.prev : stepwise && snake.alive ? a.snakes[slot] : null;
    let points = bodyPath(before, snake, mine ? predicted.t : alpha);
    if (mine && predicted.offset) {
      const [dx, dy] = predicted.offset;
      points = points.map(([x, y]) => [x + dx, y + dy]);
    }
    if (slot === view.slot) own = points[0];
    else if (snake.alive && stepwise) moving.push(points[0]);
    ctx.globalAlpha = snake.alive ? 1 : 0.22;
    if (slot === view.slot && snake.alive) {
      ctx.strokeStyle = FIELD.text;
      ctx.lineWidth = 0.92;
      polyline(ctx, points);
    }
    ctx.strokeStyle = slotColor(slot);
    ctx.lineWidth = 0.72;
    polyline(ctx, points);
    const [hx, hy] = points[0];
    ctx.fillStyle = FIELD.bg;
    ctx.beginPath();
    ctx.arc(hx, hy, 0.14, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.globalAlpha = 1;

  ctx.font = "600 0.8px system-ui, sans-serif";
  ctx.textAlign = "center";
  b.snakes.forEach((snake, slot) => {
    if (!snake.alive || !snake.body.length) return;
    const [x, y] = snake.body[0];
    // Ahead of a snake heading down, above it otherwise: never over its own body.
    const below = snake.dir === "down" ? y < h - 2 : y < 2;
    ctx.textBaseline = below ? "top" : "bottom";
    ctx.fillStyle = slotColor(slot);
    const label = view.name(slot);
    const half = ctx.measureText(label).width / 2;
    const lx = Math.min(w - half, Math.max(half, x + 0.5)); // whole, even at the edge
    ctx.fillText(label, lx, below ? y + 1.15 : y - 0.15);
  });
  return { probe: { own, moving } };
}

function polyline(ctx, points) {
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  if (points.length === 1) ctx.lineTo(points[0][0] + 0.001, points[0][1]);
  for (let i = 1; i < points.length; i++) ctx.lineTo(points[i][0], points[i][1]);
  ctx.stroke();
}
