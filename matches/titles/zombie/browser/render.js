// Zombie Siege: the tile map (walls, doors), boxes, zombies and the team blended between two
// states, shot tracers and muzzle flashes from the `fire` events, a health / ammo HUD for the
// own player and the wave banner. World units: TILE per tile.
import { FIELD, slotColor } from "../../frontend/palette.js";
import { lerp, lerpAngle } from "../../frontend/timeline.js";

export const TILE = 24;
export const world = (state) => ({ w: state.w * TILE, h: state.h * TILE });

const WALL = "#3a4152";
const DOOR = "#7a5a35";
const ZOMBIE = "#6fbf4a";
const ZOMBIE_EDGE = "#2d5a1c";
const JUMP = 2; // tiles: more than anything walks in a tick (a spawn, a revive)
const maps = new Map(); // map name -> its walls and doors as paths, built once
const BANNER_MS = 2000;
const started = { wave: null, at: 0 }; // when the page first drew the current wave

function tiles(state) {
  let m = maps.get(state.map);
  if (!m) {
    const walls = new Path2D();
    const doors = new Path2D();
    state.tiles.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        if (row[x] === "#") walls.rect(x * TILE, y * TILE, TILE, TILE);
        else if (row[x] === "D") doors.rect(x * TILE + 2, y * TILE + 2, TILE - 4, TILE - 4);
      }
    });
    m = { walls, doors };
    maps.set(state.map, m);
  }
  return m;
}

function banner(ctx, text, size, y, w) {
  ctx.font = `700 ${size}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.lineWidth = 5;
  ctx.strokeStyle = FIELD.bg;
  ctx.strokeText(text, w / 2, y);
  ctx.fillStyle = FIELD.text;
  ctx.fillText(text, w / 2, y);
}

function hud(ctx, me, h) {
  const x = 12;
  const y = h - 34;
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.fillRect(x - 6, y - 8, 232, 34);
  ctx.fillStyle = FIELD.line;
  ctx.fillRect(x, y, 120, 18);
  ctx.fillStyle = me.hp > 35 ? "#4ad06a" : "#e05050";
  ctx.fillRect(x, y, 1.2 * me.hp, 18);
  ctx.font = "600 15px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillStyle = FIELD.text;
  ctx.fillText(`${me.hp} hp`, x + 4, y + 9);
  ctx.fillText(`ammo ${me.ammo}`, x + 132, y + 9);
}

// `own`: our player as frontend/predict.js predicts it (drawn instead of the states' blend).
export function draw(ctx, { a, b, alpha, own: predicted }, view) {
  const W = b.w * TILE;
  const H = b.h * TILE;
  const t = Math.min(1, Math.max(0, alpha));
  ctx.fillStyle = FIELD.bg;
  ctx.fillRect(0, 0, W, H);
  const m = tiles(b);
  ctx.fillStyle = WALL;
  ctx.fill(m.walls);
  ctx.fillStyle = DOOR;
  ctx.fill(m.doors);

  for (const [kind, x, y] of b.pickups) {
    ctx.fillStyle = kind === 0 ? "#e0b03a" : "#e8e8e8";
    ctx.fillRect(x * TILE - 7, y * TILE - 7, 14, 14);
    if (kind === 1) {
      ctx.fillStyle = "#d04040";
      ctx.fillRect(x * TILE - 2, y * TILE - 6, 4, 12);
      ctx.fillRect(x * TILE - 6, y * TILE - 2, 12, 4);
    }
  }

  const before = new Map(a.zombies.map((z) => [z[0], z]));
  ctx.fillStyle = ZOMBIE;
  ctx.strokeStyle = ZOMBIE_EDGE;
  ctx.lineWidth = 2;
  for (const [id, x, y] of b.zombies) {
    const p = before.get(id);
    const blend = p && Math.abs(p[1] - x) + Math.abs(p[2] - y) < JUMP;
    const zx = blend ? lerp(p[1], x, t) : x;
    const zy = blend ? lerp(p[2], y, t) : y;
    ctx.beginPath();
    ctx.arc(zx * TILE, zy * TILE, 0.3 * TILE, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }

  let mine = null;
  const moving = [];
  b.team.forEach((p, slot) => {
    if (!p.active) return;
    const q = a.team[slot];
    const own = slot === view.slot && predicted?.up ? predicted : null;
    const blend = q && Math.hypot(p.x - q.x, p.y - q.y) < JUMP;
    const x = (own ? own.x : blend ? lerp(q.x, p.x, t) : p.x) * TILE;
    const y = (own ? own.y : blend ? lerp(q.y, p.y, t) : p.y) * TILE;
    const angle = own ? own.a : blend ? lerpAngle(q.a, p.a, t) : p.a;
    if (slot === view.slot) mine = { x, y };
    else if (blend && (p.mx || p.my)) moving.push([x, y]);
    const color = p.down ? "#777" : slotColor(slot);
    ctx.strokeStyle = color;
    ctx.lineWidth = 4;
    if (!p.down) {
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + Math.cos(angle) * 0.6 * TILE, y + Math.sin(angle) * 0.6 * TILE);
      ctx.stroke();
    }
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(x, y, 0.3 * TILE, 0, Math.PI * 2);
    ctx.fill();
    ctx.lineWidth = slot === view.slot ? 3 : 1.5;
    ctx.strokeStyle = FIELD.text;
    ctx.stroke();
    if (p.down) {
      ctx.strokeStyle = "#4ad06a";
      ctx.lineWidth = 3;
      ctx.beginPath();
      ctx.arc(x, y, 0.5 * TILE, -Math.PI / 2, -Math.PI / 2 + (p.revive / 60) * Math.PI * 2);
      ctx.stroke();
    }
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillStyle = FIELD.text;
    ctx.fillText(p.down ? `${view.name(slot)} (down)` : view.name(slot), x, y - 0.45 * TILE);
  });

  // Shots of the newest state: a tracer to where it stopped and a flash at the muzzle.
  const fade = Math.max(0, 1 - t);
  for (const e of b.events) {
    if (e.e !== "fire") continue;
    const p = b.team[e.slot];
    if (!p) continue;
    const x0 = p.x * TILE;
    const y0 = p.y * TILE;
    ctx.globalAlpha = 0.35 + 0.65 * fade;
    ctx.strokeStyle = "#ffe08a";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(e.x * TILE, e.y * TILE);
    ctx.stroke();
    ctx.fillStyle = "#fff3c0";
    ctx.beginPath();
    ctx.arc(x0 + Math.cos(p.a) * 0.6 * TILE, y0 + Math.sin(p.a) * 0.6 * TILE, 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  const left = b.to_spawn + b.zombies.length;
  ctx.font = "600 16px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillStyle = FIELD.text;
  ctx.fillText(`Wave ${b.wave}/${b.waves} · ${left} zombies`, 10, 8);
  if (b.finished) {
    const cleared = b.wave >= b.waves && !left;
    banner(ctx, cleared ? `Survived all ${b.waves} waves` : `Overrun in wave ${b.wave}`, 44, H / 2, W);
  } else if (b.next_wave_in > 0) {
    banner(ctx, `Wave ${b.wave + 1} in ${Math.ceil(b.next_wave_in / view.tickHz)} s`, 36, H / 3, W);
  } else if (b.wave !== started.wave) {
    started.wave = b.wave;
    started.at = performance.now();
  }
  if (!b.finished && !b.next_wave_in && performance.now() - started.at < BANNER_MS) {
    banner(ctx, `Wave ${b.wave}`, 44, H / 3, W);
  }
  const me = view.slot !== null ? b.team[view.slot] : null;
  if (me && me.active) {
    hud(ctx, me, H);
    if (me.down && !b.finished) banner(ctx, "You are down: a teammate can revive you", 24, H / 2, W);
  }
  return { ship: mine, probe: { own: mine && [mine.x, mine.y], moving } };
}
