// Zombie Siege's own player, one tick at a time as rules.py moves it (held WASD keys, the
// diagonal as fast as a straight move, walls stop one axis and a door's corner slides it to
// the tile's centre line): what the page predicts between the server's states
// (frontend/predict.js). Zombies are not predicted: a bite comes with the server's state.
// Pure: tests run it in Node against the rules.
const R = 0.3;
const SPEED = 0.2;
const DIAG = 0.7071067811865476;

function blocked(state, x, y) {
  const rows = state.tiles;
  const t = Math.trunc(y - R);
  const b = Math.trunc(y + R);
  const l = Math.trunc(x - R);
  const r = Math.trunc(x + R);
  return rows[t][l] === "#" || rows[t][r] === "#" || rows[b][l] === "#" || rows[b][r] === "#";
}

export function slide(state, x, y, dx, dy) {
  if (dx) {
    if (!blocked(state, x + dx, y)) x += dx;
    else if (!dy) {
      const c = Math.trunc(y) + 0.5;
      if (!blocked(state, x + dx, c)) y += Math.max(-Math.abs(dx), Math.min(Math.abs(dx), c - y));
    }
  }
  if (dy) {
    if (!blocked(state, x, y + dy)) y += dy;
    else if (!dx) {
      const c = Math.trunc(x) + 0.5;
      if (!blocked(state, c, y + dy)) x += Math.max(-Math.abs(dy), Math.min(Math.abs(dy), c - x));
    }
  }
  return [x, y];
}

export const predict = {
  own(state, slot) {
    const p = state.team[slot];
    return { x: p.x, y: p.y, a: p.a, mx: p.mx, my: p.my, up: p.active && !p.down };
  },
  input: (own, input) => ({ ...own, mx: input.mx ?? 0, my: input.my ?? 0, a: input.aim ?? own.a }),
  step(own, state) {
    if (!own.up || !(own.mx || own.my)) return own;
    const speed = own.mx && own.my ? SPEED * DIAG : SPEED;
    const [x, y] = slide(state, own.x, own.y, own.mx * speed, own.my * speed);
    return { ...own, x, y };
  },
  moves: (state) => !state.finished,
  blend: (p, q, t) => ({ ...q, x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t }),
  diff: (p, q) => [q.x - p.x, q.y - p.y],
  shift: (own, [dx, dy]) => ({ ...own, x: own.x + dx, y: own.y + dy }),
  point: (own) => [own.x, own.y],
  snap: 2, // tiles: a longer correction (a bite's shove, a revive) is shown at once
};
