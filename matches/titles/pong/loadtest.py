"""How a load-test client plays Pong: a new direction when the ball gets away from the
paddle, with a noisy dead zone."""

from ..base import LoadPolicy

# Matches that outlast a measurement (one ending mid-window restarts with a gap).
LONG_MATCH = {"score_to": 21}


class PongPolicy(LoadPolicy):
    def decide(self, state, slot, rng):
        gap = state["ball"]["y"] - state["paddles"][slot]["y"]
        dead_zone = 12 + rng.random() * 8
        return {"dir": 0 if abs(gap) < dead_zone else (1 if gap > 0 else -1)}

    def shows(self, state, slot, sent):
        return state["paddles"][slot]["dir"] == sent["dir"]

    def measured(self, sent):
        return sent["dir"]


POLICY = PongPolicy()
