"""The adaptive timeline (frontend/static/frontend/timeline.js) in Node, on arrivals as the
impairment proxy's `mobile` profile delivers them: jittered, in order, stalled now and then."""

import json
import shutil
import subprocess

from django.test import SimpleTestCase

from tests.frontend.test_prediction import ROOT

NODE = shutil.which("node") or "/usr/bin/node"
SCRIPT = """
const { Timeline } = await import(process.argv[1]);
const dt = 1000 / 30;
let seed = 7;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
// 20 s of mobile: 60 ms ± 30 ms one way, in order, a 200 ms stall at 1 % of the states;
// then 20 s of a calm 5 ms.
const arrivals = [];
let prev = 0;
for (let k = 0; k < 1200; k++) {
  const calm = k >= 600;
  let at = k * dt + (calm ? 5 : 60 + (rand() * 2 - 1) * 30);
  if (!calm && rand() < 0.01) at += 200;
  prev = Math.max(prev, at);
  arrivals.push(prev);
}
function run(adaptive) {
  const t = new Timeline(30, { adaptive });
  const out = { frames: 0, frozen: 0, backwards: 0, past: 0, minDelay: 99, maxDelay: 0 };
  let tick = 0, last = null;
  for (let now = 0; now < 40000; now += 1000 / 60) {
    for (; tick < arrivals.length && arrivals[tick] <= now; tick++) {
      t.push(tick, { tick }, arrivals[tick]);
    }
    const f = t.frame(now);
    t.settle();
    if (!f || t.states.length < 2) continue;
    out.frames++;
    if (last !== null && f.tick < last) out.backwards++;
    if (last !== null && f.tick === last && now < 20000) out.frozen++;
    out.past = Math.max(out.past, f.tick - t.latest.tick);
    if (now > 2000) {
      out.minDelay = Math.min(out.minDelay, t.delayTicks);
      out.maxDelay = Math.max(out.maxDelay, t.delayTicks);
    }
    if (Math.abs(now - 19000) < 10) out.mobileDelay = t.delayTicks;
    last = f.tick;
  }
  out.calmDelay = t.delayTicks;
  out.jitter = t.jitter;
  return out;
}
// A calm 5 ms network whose states stop for `gap` ms at 10 s, or that gets `step` ms slower
// for good at 10 s (the base clock snaps later): frames drawn unmoved, backwards, or past
// the newest state.
function calm({ gap = 0, step = 0 }) {
  const t = new Timeline(30, { adaptive: true });
  const out = { still: 0, backwards: 0, past: 0 };
  let tick = 0, last = null;
  const at = (k) => {
    const sent = k * dt;
    if (sent < 10000) return sent + 5;
    return Math.max(sent, 10000 + gap) + 5 + step; // held back until the gap is over
  };
  for (let now = 0; now < 20000; now += 1000 / 60) {
    for (; at(tick) <= now; tick++) t.push(tick, { tick }, at(tick));
    const f = t.frame(now);
    t.settle();
    if (!f || t.states.length < 2) continue;
    if (last !== null && now > 2000 && f.tick === last) out.still++;
    if (last !== null && f.tick < last) out.backwards++;
    out.past = Math.max(out.past, f.tick - t.latest.tick);
    last = f.tick;
  }
  out.delay = t.delayTicks;
  return out;
}
process.stdout.write(JSON.stringify({ fixed: run(false), adaptive: run(true),
  gap: calm({ gap: 300 }), step: calm({ step: 150 }) }));
"""


class AdaptiveTimelineTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        module = ROOT / "frontend" / "static" / "frontend" / "timeline.js"
        done = subprocess.run([NODE, "--input-type=module", "-e", SCRIPT, str(module)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        if done.returncode:
            raise AssertionError(f"node failed:\n{done.stderr}")
        cls.report = json.loads(done.stdout)

    def test_the_adaptive_delay_freezes_far_less_than_the_fixed_one_on_a_mobile_network(self):
        fixed, adaptive = self.report["fixed"], self.report["adaptive"]
        self.assertGreater(fixed["frozen"], 5 * max(1, adaptive["frozen"]), self.report)

    def test_the_picture_never_goes_back_and_extrapolates_at_most_five_ticks(self):
        adaptive = self.report["adaptive"]
        self.assertEqual(adaptive["backwards"], 0, adaptive)
        self.assertLessEqual(adaptive["past"], 5, adaptive)

    def test_a_300_ms_gap_in_the_states_slows_the_picture_down_without_stopping_it(self):
        gap = self.report["gap"]
        self.assertEqual(gap["still"], 0, gap)
        self.assertEqual(gap["backwards"], 0, gap)
        self.assertLess(gap["past"], 5, gap)
        self.assertGreater(gap["past"], 3, gap)  # it did extrapolate, past the old cap

    def test_a_network_slower_for_good_neither_holds_the_picture_nor_turns_it_back(self):
        # 150 ms more: the base clock snaps later after a second of late states.
        step = self.report["step"]
        self.assertEqual(step["still"], 0, step)
        self.assertEqual(step["backwards"], 0, step)
        self.assertLess(step["delay"], 2.0, step)  # back down once the network is steady

    def test_the_delay_stays_within_its_bounds_and_comes_down_when_the_network_calms(self):
        adaptive = self.report["adaptive"]
        self.assertGreaterEqual(adaptive["minDelay"], 1.2)
        self.assertLessEqual(adaptive["maxDelay"], 8)
        self.assertGreater(adaptive["mobileDelay"], 2.5, adaptive)  # it followed the jitter
        self.assertLess(adaptive["calmDelay"], 2.0, adaptive)
