"""How a load-test bot plays each title: what it sends given the last state, and how it tells
that a state reflects an input (for the input → state latency).

Deliberately simple players that send what a person would: a new Pong direction when the
ball moves away from the paddle, Snake turns towards food, Arena ships that steer, thrust
and shoot. Noise from the bot's own random generator keeps a thousand bots out of lockstep.
"""

import math
import random

TURNS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
BACK = {"up": "down", "down": "up", "left": "right", "right": "left"}


class Policy:
    # Arena players move the mouse all the time: they send at the input rate, not on changes.
    sends_unchanged = False

    def decide(self, state: dict, slot: int, rng: random.Random) -> dict | None:
        """The input to send now, or None."""
        raise NotImplementedError

    def shows(self, state: dict, slot: int, sent: dict) -> bool | None:
        """Whether `state` reflects `sent`; None when it cannot tell (a dead ship)."""
        raise NotImplementedError

    def measured(self, sent: dict):
        """The part of an input whose arrival `shows` detects."""
        raise NotImplementedError


class Pong(Policy):
    def decide(self, state, slot, rng):
        gap = state["ball"]["y"] - state["paddles"][slot]["y"]
        dead_zone = 12 + rng.random() * 8
        return {"dir": 0 if abs(gap) < dead_zone else (1 if gap > 0 else -1)}

    def shows(self, state, slot, sent):
        return state["paddles"][slot]["dir"] == sent["dir"]

    def measured(self, sent):
        return sent["dir"]


class Snake(Policy):
    def decide(self, state, slot, rng):
        me = state["snakes"][slot]
        if not me["alive"] or not state["food"]:
            return None
        hx, hy = me["body"][0]
        fx, fy = min(state["food"], key=lambda f: abs(f[0] - hx) + abs(f[1] - hy))
        wanted = [t for t, (dx, dy) in TURNS.items() if dx * (fx - hx) + dy * (fy - hy) > 0]
        wanted = [t for t in wanted if t != BACK[me["dir"]]] or [me["dir"]]
        return {"turn": rng.choice(wanted)}

    def shows(self, state, slot, sent):
        me = state["snakes"][slot]
        return (me["dir"] == sent["turn"]) if me["alive"] else None

    def measured(self, sent):
        return sent["turn"]


class Arena(Policy):
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


POLICIES = {"pong": Pong(), "snake": Snake(), "arena": Arena()}
