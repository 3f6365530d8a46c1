"""The browser's predicting step against the Python rules: a recorded session of random inputs
is played by the rules, and the page's Predictor (frontend/static/frontend/predict.js, with
the title's browser/predict.js) started from any of its states, with the inputs the state had
not applied yet, predicts exactly what the rules did next. Node runs the page's modules."""

import json
import math
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from matches import tick as ticks
from matches.titles import get_title

ROOT = Path(settings.BASE_DIR)
DRIVER = ROOT / "tests" / "support" / "predict_driver.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
AHEAD = 12  # ticks predicted past each state checked


def record(title_name: str, *, players: int, slot: int, inputs_of, ticks_n: int, seed: int):
    """The rules' states, tick by tick, with ``acks`` as the runner sets them, and the inputs
    of ``slot`` (each with the tick it was applied at); ``inputs_of(rng, tick, state)`` gives
    the slot's input for a tick or None."""
    title = get_title(title_name)
    state = title.initial_state(players=players, seed=seed, settings=title.validate_settings({}))
    rng = random.Random(seed)
    seq = 0
    acks = [0] * players
    states = {state["tick"]: {"state": title.snapshot(state), "acks": list(acks), "paused": []}}
    internal = {state["tick"]: json.loads(json.dumps(state))}
    inputs = []
    for _ in range(ticks_n):
        entries = []
        payload = inputs_of(rng, state["tick"] + 1, state)
        if payload is not None:
            seq += 1
            entries.append(["i", slot, title.validate_input(payload)])
            inputs.append({"seq": seq, "input": payload, "tick": state["tick"] + 1})
            acks[slot] = seq
        state = ticks.advance(title, state, entries=entries, bots=[])
        states[state["tick"]] = {"state": title.snapshot(state), "acks": list(acks), "paused": []}
        internal[state["tick"]] = json.loads(json.dumps(state))
    return {"slot": slot, "states": states, "inputs": inputs}, internal


def predicted(title_name: str, session: dict, checks: list[int]) -> list[list[dict]]:
    session = {**session, "checks": [
        {"tick": t, "ahead": list(range(t + 1, t + 1 + AHEAD))} for t in checks]}  # fmt: skip
    model = ROOT / "matches" / "titles" / title_name / "browser" / "predict.js"
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(session, f)
        f.flush()
        done = subprocess.run([NODE, str(DRIVER), str(model), f.name], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    if done.returncode:
        raise AssertionError(f"node failed:\n{done.stderr}")
    return json.loads(done.stdout)


class PongPredictionTests(SimpleTestCase):
    def test_the_predicted_paddle_follows_the_rules_exactly_on_recorded_inputs(self):
        def inputs_of(rng, tick, state):
            return {"dir": rng.choice((-1, 0, 1))} if rng.random() < 0.25 else None

        for seed in (1, 2, 3):
            session, internal = record("pong", players=2, slot=1, inputs_of=inputs_of,
                                       ticks_n=400, seed=seed)  # fmt: skip
            checks = list(range(0, 400 - AHEAD, 7))
            for t, row in zip(checks, predicted("pong", session, checks), strict=True):
                want = [internal[k]["paddles"][1]["y"] for k in range(t + 1, t + 1 + AHEAD)]
                self.assertEqual([own["y"] for own in row], want, f"seed {seed}, from tick {t}")

    def test_the_paddle_is_predicted_to_stop_at_the_walls(self):
        def down_once(rng, tick, state):
            return {"dir": 1} if tick == 1 else None

        session, internal = record("pong", players=2, slot=0, inputs_of=down_once, ticks_n=60,
                                   seed=4)  # fmt: skip
        (row,) = predicted("pong", session, [0])
        self.assertEqual(row[-1]["y"], internal[AHEAD]["paddles"][0]["y"])
        (late,) = predicted("pong", session, [40])
        self.assertEqual(late[-1]["y"], 460.0)  # 500 - 80 / 2


CATCH_UP = 8  # ticks the runner catches a late input up by default (250 ms at 30 Hz)


def steered(rng, tick, state):
    """Inputs that keep Pong's right paddle between 210 and 290 when applied on time: far from
    the walls, where a catch-up is exact."""
    paddle = state["paddles"][1]
    if paddle["y"] >= 290 and paddle["dir"] >= 0:
        return {"dir": -1}
    if paddle["y"] <= 210 and paddle["dir"] <= 0:
        return {"dir": 1}
    return {"dir": rng.choice((-1, 0, 1))} if rng.random() < 0.25 else None


def arriving_late(session: dict, *, seed: int, lateness, ticks_n: int):
    """The rules' states when the inputs of a recorded Pong ``session`` (each stamped with the
    tick it asks for) reach the runner ``lateness(rng)`` ticks late, in their order, and are
    caught up as the runner catches them up (realtime/engine/match.py, ``_due``); with the
    tick each input was applied at."""
    title = get_title("pong")
    slot = session["slot"]
    state = title.initial_state(players=2, seed=seed, settings=title.validate_settings({}))
    rng = random.Random(seed)
    made, last = {}, 0
    for inp in session["inputs"]:
        last = max(last, inp["tick"] + lateness(rng))
        made.setdefault(last, []).append(inp)
    acks = [0, 0]
    states = {0: {"state": title.snapshot(state), "acks": list(acks), "paused": []}}
    internal = {0: json.loads(json.dumps(state))}
    since = 0  # the tick the slot's last input took effect at
    for _ in range(ticks_n):
        now = state["tick"] + 1
        entries = []
        for inp in made.get(now, ()):
            late = min(now - inp["tick"], CATCH_UP, now - since)
            since = now - late
            entry = ["i", slot, title.validate_input(inp["input"])]
            entries.append([*entry, late] if late else entry)
            acks[slot] = inp["seq"]
        state = ticks.advance(title, state, entries=entries, bots=[])
        states[state["tick"]] = {"state": title.snapshot(state), "acks": list(acks), "paused": []}
        internal[state["tick"]] = json.loads(json.dumps(state))
    applied = {inp["seq"]: tick for tick, inps in made.items() for inp in inps}
    return {**session, "states": states, "catch_up": CATCH_UP}, internal, applied


class PongLateInputPredictionTests(SimpleTestCase):
    """Inputs that reach the runner after the tick they asked for (behind a stall of the
    uplink) are caught up by the rules, and the page predicts them so: what it draws of its
    paddle does not depend on when its inputs arrive."""

    def test_the_predicted_paddle_is_where_the_rules_catch_late_inputs_up_to(self):
        def lateness(rng):
            return rng.choice((0, 0, 0, 0, 1, 2, 3, 5, 8))  # within the cap (StaleInputTests)

        compared = caught_up = 0
        for seed in (1, 2, 3):
            on_time, ideal = record("pong", players=2, slot=1, inputs_of=steered, ticks_n=400,
                                    seed=seed)  # fmt: skip
            session, internal, applied = arriving_late(on_time, seed=seed, lateness=lateness,
                                                       ticks_n=420)  # fmt: skip
            caught_up += sum(applied[i["seq"]] > i["tick"] for i in session["inputs"])
            checks = list(range(0, 400 - AHEAD, 5))
            for t, row in zip(checks, predicted("pong", session, checks), strict=True):
                for k, own in zip(range(t + 1, t + 1 + AHEAD), row, strict=True):
                    want = ideal[k]["paddles"][1]["y"]
                    # The page draws every input where it asked to be, whether it came yet...
                    self.assertEqual(own["y"], want, f"seed {seed}, tick {k} from {t}")
                    if any(i["tick"] <= k < applied[i["seq"]] for i in session["inputs"]):
                        continue
                    # ...and the rules, once they have it, put the paddle there too.
                    self.assertEqual(internal[k]["paddles"][1]["y"], want, f"seed {seed}, {k}")
                    compared += 1
        self.assertGreater(caught_up, 50)
        self.assertGreater(compared, 1000)


STALE = """
const [predictPath, modelPath, stateJson] = process.argv.slice(1);
const { Predictor } = await import(predictPath);
const { predict } = await import(modelPath);
const state = JSON.parse(stateJson);
const y0 = state.paddles[0].y;
// State 10 has not applied an input stamped for tick STAMP: it reaches the runner late.
const at = (model, catchUp) => {
  const p = new Predictor(model, { slot: 0, clock: (now) => now, rttTicks: () => 0, catchUp });
  p.lead = 0;
  p.sent(1, { dir: 1 }, STAMP - 0.5);
  p.reconcile(state, 10, [0, 0], []);
  return [11, 13].map((t) => p.present(t).y - y0);
};
const { late, ...plain } = predict;
process.stdout.write(JSON.stringify({
  caughtUp: at(predict, CATCH_UP), noCatchUp: at(predict, 0), noModel: at(plain, CATCH_UP),
}));
"""


class StaleInputTests(SimpleTestCase):
    """A pending input whose tick the newest state has passed is predicted as the runner will
    apply it: caught up to its stamp, at most the welcome's catch_up_ticks."""

    def rules(self, stamp: int) -> list[float]:
        """Pong's left paddle at ticks 11 and 13 when the runner applies, in the step that makes
        11, an input that asked for ``stamp``."""
        title = get_title("pong")
        state = title.initial_state(players=2, seed=1, settings=title.validate_settings({}))
        y0 = state["paddles"][0]["y"]
        for _ in range(10):
            state = ticks.advance(title, state, entries=[], bots=[])
        late = min(11 - stamp, CATCH_UP)
        moved = []
        for k in (11, 12, 13):
            entries = [["i", 0, {"dir": 1}, late]] if k == 11 else []
            state = ticks.advance(title, state, entries=entries, bots=[])
            moved.append(state["paddles"][0]["y"] - y0)
        return [moved[0], moved[2]]

    def run_stale(self, stamp: int) -> dict:
        script = STALE.replace("STAMP", str(stamp)).replace("CATCH_UP", str(CATCH_UP))
        return run_on_pong(script)

    def test_a_stale_input_is_predicted_where_the_rules_catch_it_up_to(self):
        out = self.run_stale(7)
        self.assertEqual(out["caughtUp"], self.rules(7))
        self.assertEqual(out["caughtUp"], [50.0, 70.0])  # down since tick 7

    def test_an_input_later_than_the_cap_is_caught_up_only_as_far_as_the_runner_does(self):
        out = self.run_stale(1)
        self.assertEqual(out["caughtUp"], self.rules(1))
        self.assertEqual(out["caughtUp"], [90.0, 110.0])

    def test_without_a_catch_up_or_a_late_model_it_is_predicted_from_the_next_tick(self):
        out = self.run_stale(7)
        self.assertEqual(out["noCatchUp"], [10.0, 30.0])
        self.assertEqual(out["noModel"], [10.0, 30.0])


class SnakePredictionTests(SimpleTestCase):
    def test_the_predicted_snake_follows_the_rules_exactly_on_recorded_turns(self):
        def inputs_of(rng, tick, state):
            if rng.random() < 0.3:
                return {"turn": rng.choice(("up", "down", "left", "right"))}
            return None

        compared = 0
        for seed in range(1, 9):
            session, internal = record("snake", players=2, slot=0, inputs_of=inputs_of,
                                       ticks_n=150, seed=seed)  # fmt: skip
            last = max(internal)
            checks = list(range(0, last - 1, 3))
            for t, row in zip(checks, predicted("snake", session, checks), strict=True):
                for k, drawn in zip(range(t + 1, t + 1 + AHEAD), row, strict=False):
                    own = drawn["prev"]  # at a whole tick the drawing blends from it (t = 0)
                    rules = internal.get(k)
                    if rules is None or internal[k - 1]["finished"]:
                        break  # the match ended: nothing moves any more
                    snake = rules["snakes"][0]
                    if snake.get("cause") in ("snake", "head"):
                        break  # killed by the other snake: only the server knows ahead
                    w = rules["w"]
                    body = [[c % w, c // w] for c in snake["body"]]
                    self.assertEqual((own["body"], own["alive"]), (body, snake["alive"]),
                                     f"seed {seed}, from tick {t} to {k}")  # fmt: skip
                    compared += 1
        self.assertGreater(compared, 300)  # windows enough, deaths and ends aside


class ArenaPredictionTests(SimpleTestCase):
    @staticmethod
    def inputs_of(rng, tick, state):
        if rng.random() >= 0.2:
            return None
        if rng.random() < 0.4:
            return {"thrust": rng.random() < 0.7, "aim": rng.uniform(-3.1, 3.1)}
        return {"thrust": rng.random() < 0.7, "turn": rng.choice((-1, 0, 1))}

    def sessions(self, exact: bool):
        for seed in (1, 2, 3):
            session, internal = record("arena", players=2, slot=1, inputs_of=self.inputs_of,
                                       ticks_n=400, seed=seed)  # fmt: skip
            if exact:  # the rules' own numbers instead of the snapshot's rounded ones
                for t, entry in session["states"].items():
                    for ship, rules in zip(entry["state"]["ships"], internal[t]["ships"],
                                           strict=True):  # fmt: skip
                        ship.update(x=rules["x"], y=rules["y"], vx=rules["vx"] * 30,
                                    vy=rules["vy"] * 30, a=rules["a"])  # fmt: skip
            checks = list(range(0, 400 - AHEAD, 5))
            yield seed, checks, predicted("arena", session, checks), internal

    def gaps(self, exact: bool) -> tuple[float, float]:
        """The largest distance (units) and angle (radians) between prediction and rules."""
        far = turned = 0.0
        for _seed, checks, rows, internal in self.sessions(exact):
            for t, row in zip(checks, rows, strict=True):
                for k, own in zip(range(t + 1, t + 1 + AHEAD), row, strict=True):
                    ship = internal[k]["ships"][1]
                    far = max(far, math.hypot(own["x"] - ship["x"], own["y"] - ship["y"]))
                    turned = max(turned, abs(own["a"] - ship["a"]))
        return far, turned

    def test_own_shots_are_predicted_where_and_when_the_rules_fire_them(self):
        def inputs_of(rng, tick, state):
            if rng.random() >= 0.25:
                return None
            return {"thrust": rng.random() < 0.5, "aim": rng.uniform(-3.1, 3.1),
                    "fire": rng.random() < 0.6}  # fmt: skip

        fired = matched = 0
        for seed in (1, 2, 3):
            session, internal = record("arena", players=2, slot=1, inputs_of=inputs_of,
                                       ticks_n=400, seed=seed)  # fmt: skip
            for t, entry in session["states"].items():  # the rules' numbers (as above)
                rules = internal[t]
                for ship, exact in zip(entry["state"]["ships"], rules["ships"], strict=True):
                    ship.update(x=exact["x"], y=exact["y"], vx=exact["vx"] * 30,
                                vy=exact["vy"] * 30, a=exact["a"])  # fmt: skip
                entry["state"]["shots"] = [[x, y, vx * 30, vy * 30, o]
                                           for x, y, vx, vy, o, *_ in rules["shots"]]  # fmt: skip
            checks = list(range(12, 400 - AHEAD, 5))
            for t, row in zip(checks, predicted("arena", session, checks), strict=True):
                for k, own in zip(range(t + 1, t + 1 + AHEAD), row, strict=True):
                    mine = [s for s in internal[k]["shots"] if s[4] == 1]
                    gone = {id(s) for s in mine}  # each rules shot matched once
                    for shot in own["shots"]:
                        near = [
                            s
                            for s in mine
                            if id(s) in gone
                            and math.hypot(s[0] - shot["x"], s[1] - shot["y"]) < 1e-6
                        ]
                        if near:
                            gone.discard(id(near[0]))
                            matched += 1
                    # Every shot the rules have is predicted (one that hit a ship or ran out
                    # of life since tick t is predicted on: the server's state drops it).
                    self.assertFalse(gone, f"seed {seed}: tick {k} from {t}: {mine} {own['shots']}")
                    events = [e for j in range(t + 1, k + 1) for e in internal[j]["events"]]
                    new = sum(e.get("e") == "fire" and e.get("slot") == 1 for e in events)
                    # ...and no shot the rules did not fire (nor one fired early).
                    before = sum(s[4] == 1 for s in internal[t]["shots"])
                    self.assertLessEqual(len(own["shots"]), before + new, f"seed {seed}, {t}-{k}")
                    fired += new
        self.assertGreater(fired, 100)  # the session fired: the shots checked include new ones
        self.assertGreater(matched, 1000)

    def test_from_the_rules_numbers_the_predicted_ship_follows_the_rules(self):
        # Only floating point rounding between V8's and Python's sine and cosine is left.
        far, turned = self.gaps(exact=True)
        self.assertLess((far, turned), (1e-6, 1e-6))

    def test_from_a_rounded_snapshot_the_predicted_ship_stays_within_the_rounding(self):
        # 12 ticks ahead of a state rounded to 0.1 units, 0.1 u/s and 0.01 rad; the worst
        # is a turn toward the aim that ends a tick apart, then thrust along the other angle.
        far, turned = self.gaps(exact=False)
        self.assertLess(turned, 0.0051)
        self.assertLess(far, 3.0)


def run_on_pong(script: str) -> dict:
    """What a node ``script`` prints, given the paths of predict.js and Pong's model and the
    JSON of Pong's first state."""
    title = get_title("pong")
    state = title.snapshot(
        title.initial_state(players=2, seed=1, settings=title.validate_settings({}))
    )
    predict = ROOT / "frontend" / "static" / "frontend" / "predict.js"
    model = ROOT / "matches" / "titles" / "pong" / "browser" / "predict.js"
    args = [str(predict), str(model), json.dumps(state)]
    done = subprocess.run([NODE, "--input-type=module", "-e", script, *args],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    if done.returncode:
        raise AssertionError(f"node failed:\n{done.stderr}")
    return json.loads(done.stdout)


REFUSED = """
const [predictPath, modelPath, stateJson] = process.argv.slice(1);
const { Predictor } = await import(predictPath);
const { predict } = await import(modelPath);
const state = JSON.parse(stateJson);
const y0 = state.paddles[0].y;
// Time in ticks, lead 0: an input sent at j - 0.5 is stamped for tick j (predict_driver.mjs).
const make = () => {
  const p = new Predictor(predict, { slot: 0, clock: (now) => now, rttTicks: () => 0 });
  p.lead = 0;
  p.reconcile(state, 10, [0, 0], []);
  return p;
};
const p = make();
p.sent(1, { dir: 1 }, 10.5); // down from tick 11: refused (say, unavailable)
p.sent(2, { dir: -1 }, 15.5); // up from tick 16: queued
const out = { movedBefore: p.present(14).y - y0 };
out.unknown = p.refused(99, 14);
out.change = p.refused(1, 14);
out.pending = p.pending.map((i) => i.seq);
out.presentAfter = p.present(14).y - y0;
out.drawnAtOnce = p.drawn(14).y - y0; // no jump: the change is faded
for (let k = 0; k < 60; k++) p.fade(1000 / 60);
out.drawnLater = p.drawn(14).y - y0;
// From then on it predicts what a predictor that never had the refused input does.
const only = make();
only.sent(2, { dir: -1 }, 15.5);
out.laterTicks = [16, 18, 20].map((t) => [p.present(t).y, only.present(t).y]);
// And a state that acknowledges the queued one empties the list as before.
p.reconcile(state, 11, [2, 0], []);
out.pendingAcked = p.pending.length;
process.stdout.write(JSON.stringify(out));
"""


class RefusedInputTests(SimpleTestCase):
    """An input the gateway refused (an `error` with `ref` = its seq, match.js) leaves the
    prediction at once, not when a later input is acknowledged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.out = run_on_pong(REFUSED)

    def test_the_refused_input_is_dropped_and_the_others_stay(self):
        out = self.out
        self.assertEqual(out["movedBefore"], 40)  # ticks 11-14 at 10 units: it was predicted
        self.assertEqual(out["unknown"], 0)  # a seq not pending changes nothing
        self.assertEqual(out["pending"], [2])
        self.assertEqual(out["presentAfter"], 0)
        self.assertEqual(out["change"], 40)
        for got, want in out["laterTicks"]:
            self.assertEqual(got, want)
        self.assertEqual(out["pendingAcked"], 0)

    def test_the_paddle_glides_back_instead_of_jumping(self):
        self.assertEqual(self.out["drawnAtOnce"], 40)
        self.assertLess(abs(self.out["drawnLater"]), 0.1)


LEAD = """
const [predictPath, modelPath, stateJson] = process.argv.slice(1);
const { Predictor } = await import(predictPath);
const { predict } = await import(modelPath);
const state = JSON.parse(stateJson);
// Time in ticks (clock(now) = now); no round trip known yet: a lead of 2 to start with.
const p = new Predictor(predict, { slot: 0, clock: (now) => now, rttTicks: () => null });
p.reconcile(state, 10, [0, 0], []);
const out = { first: p.stamp(10.2) };
// 40 inputs, each queued 2 to 3 ticks after it was sent (a jittery uplink), and one stalled
// for 8: the lead settles near the top of the usual arrivals, not at the stall.
let seq = 0;
const late = [];
for (let k = 0; k < 40; k++) {
  const sentAt = 11 + k * 1.7;
  p.sent(++seq, { dir: k % 2 }, sentAt);
  const queuedAt = Math.floor(sentAt + (k === 20 ? 8 : 2 + (k * 7919 % 10) / 10));
  p.arrived(seq, queuedAt, sentAt + 4);
  late.push(queuedAt + 1 > p.pending[p.pending.length - 1].tick);
}
out.lead = p.arrival;
out.lateAfterWarmup = late.slice(LEAD_WARMUP).filter(Boolean).length;
// Stamps never go back, even when the lead drops.
p.arrival = 0;
out.afterDrop = [p.stamp(60), p.lastStamp];
// The clock snapping later (the states' lateness changed, the uplink's did not) does not
// move the tick an input asks for: arrivals are counted from the page's own time.
let shift = 0;
const q = new Predictor(predict, { slot: 0, clock: (now) => now - shift, rttTicks: () => null });
q.reconcile(state, 10, [0, 0], []);
for (let k = 0; k < 10; k++) {
  q.sent(k + 1, { dir: k % 2 }, 11 + k);
  q.arrived(k + 1, 13 + k, 12 + k);
}
const before = q.stamp(30.3);
shift = 3;
out.snap = [before, q.stamp(30.3)];
// An ack for an input it never saw, or twice, changes nothing.
out.unknown = p.arrived(999, 50, 90);
process.stdout.write(JSON.stringify(out));
""".replace("LEAD_WARMUP", "8")


class LeadTests(SimpleTestCase):
    """The tick an input asks for (`at`) is learnt from the server's acks of the inputs before
    it: late enough for nearly all of them to arrive in time (then the runner holds them and
    the prediction is exact), not held back by a rare stall."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.out = run_on_pong(LEAD)

    def test_before_any_ack_an_input_asks_for_the_tick_two_past_the_clock(self):
        self.assertEqual(self.out["first"], 13)

    def test_the_lead_covers_the_usual_arrivals_but_not_the_stall(self):
        self.assertGreaterEqual(self.out["lead"], 2.5)
        self.assertLess(self.out["lead"], 5)

    def test_once_learnt_at_most_the_stalled_input_and_one_more_came_late(self):
        self.assertLessEqual(self.out["lateAfterWarmup"], 2)

    def test_a_stamp_never_goes_before_an_earlier_one(self):
        stamp, last = self.out["afterDrop"]
        self.assertEqual(stamp, last)
        self.assertGreater(stamp, 80)

    def test_a_snap_of_the_clock_does_not_move_the_tick_asked_for(self):
        before, after = self.out["snap"]
        self.assertEqual(before, after)
        self.assertEqual(before, 33)  # queued at 32 (2 ticks after sending), applied at 33

    def test_an_ack_of_an_unknown_input_changes_nothing(self):
        self.assertEqual(self.out["unknown"], 0)
