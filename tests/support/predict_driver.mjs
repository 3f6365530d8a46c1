// Runs the browser's Predictor (frontend/static/frontend/predict.js) with a title's predict
// model on a recorded session (tests/frontend/test_prediction.py writes it) and prints, for
// each server state given, the own object it predicts at the ticks asked.
//
// Time is counted in ticks (clock(now) = now) and the lead is 0, so an input "sent" at
// tick j - 0.5 is stamped for tick j: the tick the server really applied it at, or, in a
// session with `catch_up` (the welcome's catch_up_ticks), the tick it asked for.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modelPath, sessionPath] = process.argv.slice(2);
const { predict } = await import(pathToFileURL(modelPath));
const { Predictor } = await import(pathToFileURL(new URL("../../frontend/static/frontend/predict.js", import.meta.url).pathname));
const session = JSON.parse(readFileSync(sessionPath, "utf8"));

const out = [];
for (const check of session.checks) {
  const predictor = new Predictor(predict, {
    slot: session.slot, clock: (now) => now, rttTicks: () => 0, catchUp: session.catch_up ?? 0,
  });
  predictor.lead = 0;
  for (const input of session.inputs) predictor.sent(input.seq, input.input, input.tick - 0.5);
  // The states before it too, as the page sees them (what a model `remember`s).
  for (let t = Math.max(0, check.tick - 12); t <= check.tick; t++) {
    const state = session.states[t];
    if (state) predictor.reconcile(state.state, t, state.acks, state.paused);
  }
  out.push(check.ahead.map((k) => predictor.present(k)));
}
process.stdout.write(JSON.stringify(out));
