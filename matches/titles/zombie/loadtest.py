"""How a load-test client plays Zombie Siege: walks a random direction for a while, aims at
the nearest zombie and shoots when one is up; the aim follows the zombies all the time."""

import math

from ..base import LoadPolicy

# Matches that outlast a measurement (one ending mid-window restarts with a gap).
LONG_MATCH = {"waves": 30, "difficulty": 1}


class ZombiePolicy(LoadPolicy):
    sends_unchanged = True

    def decide(self, state, slot, rng):
        me = state["team"][slot]
        if not me["active"] or me["down"]:
            return None
        x, y = me["x"], me["y"]
        near = min(state["zombies"], key=lambda z: (z[1] - x) ** 2 + (z[2] - y) ** 2,
                   default=None)  # fmt: skip
        aim = math.atan2(near[2] - y, near[1] - x) if near else rng.uniform(-math.pi, math.pi)
        return {"mx": rng.choice((-1, 0, 1)), "my": rng.choice((-1, 0, 1)),
                "aim": round(aim, 2), "fire": near is not None}  # fmt: skip

    def shows(self, state, slot, sent):
        me = state["team"][slot]
        if not me["active"] or me["down"]:
            return None
        return (me["mx"], me["my"]) == (sent["mx"], sent["my"])

    def measured(self, sent):
        return (sent["mx"], sent["my"])


POLICY = ZombiePolicy()
