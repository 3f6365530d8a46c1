// Thrust Arena's own ship, one tick at a time as rules.py moves it (turn or aim, thrust, drag,
// the speed cap, the walls): what the page predicts between the server's states
// (frontend/predict.js). Pure: tests run it in Node against the rules.
const TURN_RATE = 0.14;
const THRUST = 0.45;
const DRAG = 0.985;
const MAX_SPEED = 9;
const WALL_BOUNCE = 0.5;
const TAU = 2 * Math.PI;
const HZ = 30; // rules.py's tick_hz: the snapshot's velocities are per second
const SHOT_SPEED = 18; // units per tick
const SHOT_LIFE = 36; // ticks
const COOLDOWN = 9; // ticks between two shots of a ship

// Python's (a + pi) % tau - pi: the result takes the divisor's sign.
function normAngle(a) {
  if (-Math.PI <= a && a < Math.PI) return a;
  const m = (a + Math.PI) % TAU;
  return (m < 0 ? m + TAU : m) - Math.PI;
}

function clampSpeed(vx, vy) {
  const speed = Math.hypot(vx, vy);
  if (speed <= MAX_SPEED) return [vx, vy];
  const k = MAX_SPEED / speed;
  vx *= k;
  vy *= k;
  while (Math.hypot(vx, vy) > MAX_SPEED) {
    vx *= 0.999999999999; // rules.py's guard against rounding up by an ulp
    vy *= 0.999999999999;
  }
  return [vx, vy];
}

// Our shots one tick along, as rules.py's _move_shots moves them: gone past their life or
// out of the world; hits are the server's to say (its state drops the shot).
function moveShots(shots, state) {
  const out = [];
  for (const s of shots) {
    const x = s.x + s.vx;
    const y = s.y + s.vy;
    const life = s.life === null ? null : s.life - 1;
    if ((life !== null && life <= 0) || x < 0 || x > state.w || y < 0 || y > state.h) continue;
    out.push({ ...s, x, y, life });
  }
  return out;
}

export const predict = {
  // The snapshot has the velocity per second and no turn, aim, fire or cooldown: the held
  // controls are the last input the server applied (`sticky`: the predictor applies it to
  // each new base), the cooldown is counted from our last "fire" event (`remember`). Our
  // shots are predicted too (drawn at once on the fire input): the base's own shots (their
  // life unknown) and those the held fire control makes after it.
  own(state, slot, memory = null) {
    const s = state.ships[slot];
    const fired = memory?.fired ?? null;
    const shots = [];
    for (const [x, y, vx, vy, owner] of state.shots ?? []) {
      if (owner === slot) shots.push({ x, y, vx: vx / HZ, vy: vy / HZ, life: null });
    }
    return { x: s.x, y: s.y, vx: s.vx / HZ, vy: s.vy / HZ, a: s.a, alive: s.alive && s.active,
             thrust: s.thrust, turn: 0, aim: null, fire: false, shots,
             cd: fired === null ? 0 : Math.max(0, COOLDOWN - (state.tick - fired)) };
  },
  // The tick of our last shot, from the states' events (one missed state can miss it: the
  // server's own shot then corrects the tracer).
  remember(memory, state, slot) {
    const fired = (state.events ?? []).some((e) => e.e === "fire" && e.slot === slot);
    return fired ? { fired: state.tick } : memory;
  },
  sticky: true,
  input: (own, input) => ({ ...own, thrust: !!input.thrust, turn: input.turn ?? 0,
                            aim: input.aim ?? null, fire: !!input.fire }),
  step(own, state) {
    if (!own.alive) return own.shots.length ? { ...own, shots: moveShots(own.shots, state) } : own;
    let a = own.a;
    if (own.aim !== null) {
      const diff = normAngle(own.aim - a);
      a = -TURN_RATE <= diff && diff <= TURN_RATE ? own.aim : a + Math.sign(diff) * TURN_RATE;
    } else if (own.turn) {
      a += own.turn * TURN_RATE;
    }
    a = normAngle(a);
    const ca = Math.cos(a);
    const sa = Math.sin(a);
    let { vx, vy } = own;
    if (own.thrust) {
      vx += THRUST * ca;
      vy += THRUST * sa;
    }
    vx *= DRAG;
    vy *= DRAG;
    if (Math.hypot(vx, vy) > MAX_SPEED) [vx, vy] = clampSpeed(vx, vy);
    let x = own.x + vx;
    let y = own.y + vy;
    const lo = state.ship_r;
    const hiX = state.w - lo;
    const hiY = state.h - lo;
    if (x < lo) [x, vx] = [lo, vx < 0 ? -vx * WALL_BOUNCE : vx];
    else if (x > hiX) [x, vx] = [hiX, vx > 0 ? -vx * WALL_BOUNCE : vx];
    if (y < lo) [y, vy] = [lo, vy < 0 ? -vy * WALL_BOUNCE : vy];
    else if (y > hiY) [y, vy] = [hiY, vy > 0 ? -vy * WALL_BOUNCE : vy];
    let { shots } = own;
    let cd = own.cd > 0 ? own.cd - 1 : 0;
    if (own.fire && cd === 0) {
      const nose = state.ship_r + state.shot_r;
      shots = [...shots, { x: x + nose * ca, y: y + nose * sa, vx: SHOT_SPEED * ca, vy: SHOT_SPEED * sa,
                           life: SHOT_LIFE }];
      cd = COOLDOWN;
    }
    if (shots.length) shots = moveShots(shots, state);
    return { ...own, x, y, vx, vy, a, cd, shots };
  },
  moves: (state) => !state.finished,
  blend(p, q, t) {
    let d = q.a - p.a;
    while (d > Math.PI) d -= TAU;
    while (d < -Math.PI) d += TAU;
    // The shots of p's tick along their velocity: one fired at q's tick shows from q on.
    const shots = p.shots.map((s) => ({ ...s, x: s.x + s.vx * t, y: s.y + s.vy * t }));
    return { ...q, x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t, a: p.a + d * t, shots };
  },
  diff: (p, q) => [q.x - p.x, q.y - p.y],
  shift: (own, [dx, dy]) => ({ ...own, x: own.x + dx, y: own.y + dy }),
  point: (own) => [own.x, own.y],
  snap: 60, // a respawn, not a correction
};
