"""How a load-test client plays Thrust Arena: heads for a wobbling point near the centre,
thrusts when far from it and shoots often; it moves the mouse all the time."""

import math

from ..base import LoadPolicy

# Matches that outlast a measurement (one ending mid-window restarts with a gap).
LONG_MATCH = {"time_limit_s": 900}


class ArenaPolicy(LoadPolicy):
    sends_unchanged = True

    def decide(self, state, slot, rng):
        me = state["ships"][slot]
        if not me["alive"]:
            return None
        # Head for a point near the centre, wobbling; thrust when far from it; shoot often.
        tx = state["w"] / 2 + rng.uniform(-0.3, 0.3) * state["w"]
        ty = state["h"] / 2 + rng.uniform(-0.3, 0.3) * state["h"]
        aim = math.atan2(ty - me["y"], tx - me["x"])
        far = math.hypot(tx - me["x"], ty - me["y"]) > 0.15 * state["w"]
        return {"thrust": far, "turn": 0, "fire": rng.random() < 0.3, "aim": round(aim, 3)}

    def shows(self, state, slot, sent):
        me = state["ships"][slot]
        return (me["thrust"] == sent["thrust"]) if me["alive"] else None

    def measured(self, sent):
        return sent["thrust"]


POLICY = ArenaPolicy()
