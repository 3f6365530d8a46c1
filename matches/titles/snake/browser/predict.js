// Snake's own snake, one tick at a time as rules.py moves it (the buffered turn, one cell a
// tick, growing on food, dying on a wall or on itself): what the page predicts between the
// server's states (frontend/predict.js). Other snakes are not known ahead: a death by one of
// them comes with the server's state. Pure: tests run it in Node against the rules.
const DX = { up: 0, down: 0, left: -1, right: 1 };
const DY = { up: -1, down: 1, left: 0, right: 0 };
const OPPOSITE = { up: "down", down: "up", left: "right", right: "left" };

const key = ([x, y]) => `${x},${y}`;

export const predict = {
  own(state, slot) {
    const s = state.snakes[slot];
    return { body: s.body, dir: s.dir, next: s.dir, alive: s.alive, eaten: new Set() };
  },
  input: (own, input) => (!own.alive || input.turn === OPPOSITE[own.dir] ? own : { ...own, next: input.turn }),
  step(own, state) {
    if (!own.alive) return own;
    const dir = own.next;
    const [hx, hy] = own.body[0];
    const head = [hx + DX[dir], hy + DY[dir]];
    if (head[0] < 0 || head[1] < 0 || head[0] >= state.w || head[1] >= state.h) {
      return { ...own, dir, alive: false };
    }
    const k = key(head);
    const eats = !own.eaten.has(k) && state.food.some((f) => key(f) === k);
    const body = eats ? [head, ...own.body] : [head, ...own.body.slice(0, -1)];
    if (body.slice(1).some((c) => key(c) === k)) return { ...own, dir, alive: false };
    const eaten = eats ? new Set([...own.eaten, k]) : own.eaten;
    return { ...own, body, dir, eaten };
  },
  moves: (state) => !state.finished,
  // Between two ticks: the body of the tick before, for the renderer's slide.
  blend: (p, q, t) => ({ ...q, prev: p, t }),
  diff: (p, q) => [q.body[0][0] - p.body[0][0], q.body[0][1] - p.body[0][1]],
  shift: (own, [dx, dy]) => ({ ...own, offset: [dx, dy] }),
  point: (own) => own.body[0],
  snap: 3, // cells: a longer correction (a death, a respawn) is shown at once
};
