"""How a load-test client plays Snake: turns towards the nearest food, never back."""

from ..base import LoadPolicy

TURNS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
BACK = {"up": "down", "down": "up", "left": "right", "right": "left"}


# Matches that outlast a measurement (one ending mid-window restarts with a gap).
LONG_MATCH = {"time_limit_s": 600}


class SnakePolicy(LoadPolicy):
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


POLICY = SnakePolicy()
