// Pong: draws the snapshot of README.md here in field units (800 × 500), blending two states.
import { FIELD, slotColor } from "../../frontend/palette.js";
import { lerp } from "../../frontend/timeline.js";

export const world = (state) => ({ w: state.w, h: state.h });

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

// Farther than a ball travels in one tick at its top speed: a new serve, not motion.
const JUMP = 40;

// `own`: our paddle as frontend/predict.js predicts it (drawn instead of the states' blend).
export function draw(ctx, { a, b, alpha, own: predicted }, view) {
  const { w, h, paddle_w: pw, paddle_h: ph, paddle_x: px, ball_r: r } = b;
  ctx.fillStyle = FIELD.bg;
  ctx.fillRect(0, 0, w, h);

  ctx.strokeStyle = FIELD.line;
  ctx.lineWidth = 4;
  ctx.setLineDash([14, 14]);
  ctx.beginPath();
  ctx.moveTo(w / 2, 0);
  ctx.lineTo(w / 2, h);
  ctx.stroke();
  ctx.setLineDash([]);

  ctx.fillStyle = FIELD.line;
  ctx.font = "bold 96px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText(String(b.scores[0]), w / 4, 24);
  ctx.fillText(String(b.scores[1]), (3 * w) / 4, 24);

  let own = null;
  const moving = []; // remote objects in motion (the probe counts them drawn unmoved)
  for (let slot = 0; slot < 2; slot++) {
    const mine = slot === view.slot && predicted;
    const y = mine ? predicted.y : clamp(lerp(a.paddles[slot].y, b.paddles[slot].y, alpha), ph / 2, h - ph / 2);
    if (!mine && b.paddles[slot].dir && y > ph / 2 && y < h - ph / 2) moving.push([px[slot], y]);
    if (slot === view.slot) own = [px[slot], y];
    ctx.fillStyle = slotColor(slot);
    ctx.fillRect(px[slot], y - ph / 2, pw, ph);
    if (slot === view.slot) {
      ctx.strokeStyle = FIELD.text;
      ctx.lineWidth = 2;
      ctx.strokeRect(px[slot] - 3, y - ph / 2 - 3, pw + 6, ph + 6);
    }
  }

  const jumped = Math.abs(b.ball.x - a.ball.x) > JUMP || Math.abs(b.ball.y - a.ball.y) > JUMP;
  const t = jumped ? 1 : alpha;
  const bx = lerp(a.ball.x, b.ball.x, t);
  const by = clamp(lerp(a.ball.y, b.ball.y, t), r, h - r); // extrapolated: not past a wall
  ctx.fillStyle = b.serve_in > 0 ? FIELD.muted : FIELD.text;
  ctx.beginPath();
  ctx.arc(bx, by, r, 0, Math.PI * 2);
  ctx.fill();

  ctx.font = "600 20px system-ui, sans-serif";
  ctx.textBaseline = "bottom";
  for (let slot = 0; slot < 2; slot++) {
    ctx.fillStyle = slotColor(slot);
    ctx.textAlign = slot === 0 ? "left" : "right";
    const label = view.name(slot) + (slot === view.slot ? " (you)" : "");
    // Clear of the paddles' lanes, so a paddle at the bottom never hides a name.
    ctx.fillText(label, slot === 0 ? px[0] + pw + 24 : px[1] - 24, h - 12);
  }
  const inPlay = a.serve_in === 0 && b.serve_in === 0 && !b.finished;
  if (inPlay) moving.unshift([bx, by]);
  return { probe: { own, moving } };
}
