// Pong's own paddle, one tick at a time as rules.py moves it: what the page predicts between
// the server's states (frontend/predict.js). Pure: tests run it in Node against the rules.
const PADDLE_SPEED = 10; // units per tick (rules.py)

export const predict = {
  // The own object as the snapshot has it.
  own: (state, slot) => ({ y: state.paddles[slot].y, dir: state.paddles[slot].dir }),
  input: (own, input) => ({ ...own, dir: input.dir }),
  // An input applied `ticks` after the tick it asked for: the paddle as if its direction had
  // been held since then (rules.py, apply_late_input).
  late(own, input, ticks, state) {
    const half = state.paddle_h / 2;
    const y = own.y + (input.dir - own.dir) * PADDLE_SPEED * ticks;
    return { ...own, dir: input.dir, y: y < half ? half : y > state.h - half ? state.h - half : y };
  },
  step(own, state) {
    if (!own.dir) return own;
    const half = state.paddle_h / 2;
    const y = own.y + own.dir * PADDLE_SPEED;
    return { ...own, y: y < half ? half : y > state.h - half ? state.h - half : y };
  },
  moves: (state) => !state.finished, // paddles move through the serve wait too
  blend: (a, b, t) => ({ ...b, y: a.y + (b.y - a.y) * t }),
  // Field units from a to b, and a moved by them (smoothing).
  diff: (a, b) => [b.y - a.y],
  shift: (own, [dy]) => ({ ...own, y: own.y + dy }),
  point: (own, state, slot) => [state.paddle_x[slot], own.y],
  snap: 120, // a jump this large is not smoothed (nothing moves a paddle that far in a tick)
};
