// Thrust Arena: the world of the snapshot's size (1000 × 1000 up to 8 players, larger with
// more; the page scales it to the canvas), ships blended between two states, shots placed
// back along their velocity to the instant drawn.
import { FIELD, slotColor } from "../../frontend/palette.js";
import { lerp, lerpAngle } from "../../frontend/timeline.js";

export const world = (state) => ({ w: state.w, h: state.h });

const JUMP = 60; // more than a ship moves in a tick: a respawn, not motion

// A grown world is drawn smaller on the same canvas: `zoom` (≥ 1) is how much smaller than
// the classic 1000-unit world. Text, hit-point pips and strokes grow by it (same size on
// screen as in the classic world), ships and shots by its square root (still findable,
// without hiding how far apart they are).
const CLASSIC = 1000;
const zoomOf = (w, h) => Math.max(1, Math.min(w, h) / CLASSIC);

function backdrop(ctx, w, h, zoom) {
  ctx.fillStyle = FIELD.bg;
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#161b26";
  ctx.lineWidth = 2 * zoom;
  ctx.beginPath();
  for (let x = 100; x < w; x += 100) {
    ctx.moveTo(x, 0);
    ctx.lineTo(x, h);
  }
  for (let y = 100; y < h; y += 100) {
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
  }
  ctx.stroke();
  ctx.strokeStyle = FIELD.line;
  ctx.lineWidth = 6 * zoom;
  ctx.strokeRect(3 * zoom, 3 * zoom, w - 6 * zoom, h - 6 * zoom);
}

// Drawn a bit larger than the hit radius: at phone scale a 14-unit ship is a few pixels.
const SPRITE = 1.35;

function ship(ctx, x, y, angle, hitR, color, { thrust, mine, inv, hp, maxHp, name, zoom }) {
  const r = hitR * SPRITE * Math.sqrt(zoom);
  ctx.save();
  ctx.translate(x, y);
  if (inv > 0) {
    ctx.strokeStyle = color;
    ctx.globalAlpha = 0.35 + 0.25 * Math.sin(inv / 2);
    ctx.lineWidth = 2 * zoom;
    ctx.beginPath();
    ctx.arc(0, 0, r + 8 * zoom, 0, Math.PI * 2);
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  if (mine && zoom > 1) {
    // Among many ships in a big world: a ring round ours.
    ctx.strokeStyle = FIELD.text;
    ctx.globalAlpha = 0.6;
    ctx.lineWidth = 2 * zoom;
    ctx.beginPath();
    ctx.arc(0, 0, r + 16 * zoom, 0, Math.PI * 2);
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  ctx.rotate(angle);
  if (thrust) {
    ctx.fillStyle = "#ffb13b";
    ctx.beginPath();
    ctx.moveTo(-r * 0.7, -r * 0.35);
    ctx.lineTo(-r * (1.5 + Math.random() * 0.5), 0);
    ctx.lineTo(-r * 0.7, r * 0.35);
    ctx.fill();
  }
  ctx.fillStyle = color;
  ctx.strokeStyle = mine ? FIELD.text : FIELD.bg;
  ctx.lineWidth = (mine ? 3 : 2) * zoom;
  ctx.beginPath();
  ctx.moveTo(r * 1.2, 0);
  ctx.lineTo(-r * 0.9, -r * 0.8);
  ctx.lineTo(-r * 0.5, 0);
  ctx.lineTo(-r * 0.9, r * 0.8);
  ctx.closePath();
  ctx.fill();
  ctx.stroke();
  ctx.restore();

  ctx.font = `600 ${24 * zoom}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillStyle = color;
  ctx.fillText(name, x, y - r - 10 * zoom);
  const pip = 10 * zoom;
  const left = x - (maxHp * pip) / 2;
  for (let i = 0; i < maxHp; i++) {
    ctx.fillStyle = i < hp ? color : FIELD.line;
    ctx.fillRect(left + i * pip, y + r + 8 * zoom, pip - 3 * zoom, 5 * zoom);
  }
}

// `own`: our ship as frontend/predict.js predicts it (drawn instead of the states' blend).
export function draw(ctx, { a, b, alpha, own: predicted }, view) {
  const { w, h, ship_r: r, shot_r: sr } = b;
  const zoom = zoomOf(w, h);
  backdrop(ctx, w, h, zoom);
  const dtBack = (1 - alpha) / view.tickHz; // seconds from the instant drawn to b

  const dot = (sr + 1) * Math.sqrt(zoom);
  // Our own shots, when predicted, come from the prediction (drawn at once on the fire
  // input, where our predicted ship is): not from the states drawn behind it.
  const ownShots = predicted?.shots ?? null;
  for (const [x, y, vx, vy, owner] of b.shots) {
    if (ownShots && owner === view.slot) continue;
    ctx.fillStyle = slotColor(owner);
    ctx.beginPath();
    ctx.arc(x - vx * dtBack, y - vy * dtBack, dot, 0, Math.PI * 2);
    ctx.fill();
  }
  for (const s of ownShots ?? []) {
    ctx.fillStyle = slotColor(view.slot);
    ctx.beginPath();
    ctx.arc(s.x, s.y, dot, 0, Math.PI * 2);
    ctx.fill();
  }

  let mine = null;
  const moving = []; // remote ships in motion (the probe counts them drawn unmoved)
  b.ships.forEach((s, slot) => {
    if (!s.active || !s.alive) return;
    const p = a.ships[slot];
    const own = slot === view.slot && predicted?.alive ? predicted : null;
    const blend = p && p.alive && Math.hypot(s.x - p.x, s.y - p.y) < JUMP;
    const x = own ? own.x : blend ? lerp(p.x, s.x, alpha) : s.x;
    const y = own ? own.y : blend ? lerp(p.y, s.y, alpha) : s.y;
    const angle = own ? own.a : blend ? lerpAngle(p.a, s.a, alpha) : s.a;
    if (slot === view.slot) mine = { x, y };
    else if (blend && (s.vx || s.vy)) moving.push([x, y]);
    ship(ctx, x, y, angle, r, slotColor(slot), {
      thrust: own ? own.thrust : s.thrust, mine: slot === view.slot, inv: s.inv, hp: s.hp, maxHp: b.max_hp,
      name: view.name(slot), zoom,
    });
  });

  const me = view.slot !== null ? b.ships[view.slot] : null;
  if (me && me.active && !me.alive) {
    ctx.fillStyle = FIELD.text;
    ctx.font = `600 ${40 * zoom}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(`Respawn in ${Math.ceil(me.respawn_in / view.tickHz)} s`, w / 2, h / 2);
  }
  return { ship: mine, probe: { own: mine && [mine.x, mine.y], moving } };
}
