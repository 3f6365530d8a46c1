"""Lag compensation of Thrust Arena's shots: a fire input says which tick the shooter was
looking at (``seen``), and its shots are checked against the ships where they were then."""

import copy
import math
import unittest

from matches.titles import InputError
from matches.titles.arena import TITLE as T
from matches.titles.arena import rules as A

LATE = 6  # ticks: the shooter sees the world 200 ms late (30 Hz)


def arena(seed: int = 3) -> dict:
    state = T.initial_state(players=2, seed=seed, settings=T.validate_settings({}))
    shooter, target = state["ships"]
    shooter.update(x=200.0, y=500.0, vx=0.0, vy=0.0, a=0.0, inv=0, cd=0)
    target.update(x=520.0, y=330.0, vx=0.0, vy=6.0, a=math.pi / 2, inv=0)
    return state


def step(state: dict, inputs: dict | None = None) -> dict:
    for slot, payload in (inputs or {}).items():
        state = T.apply_input(state, slot, T.validate_input(payload))
    return T.step(state)


def hits(state: dict, ticks: int = A.SHOT_LIFE + 2) -> list[dict]:
    seen = []
    for _ in range(ticks):
        state = step(state)
        seen += [e for e in state["events"] if e["e"] in ("hit", "kill", "shield")]
    return seen


def aim_as_seen(view: dict) -> float:
    """The angle that hits the target in ``view`` (the world the shooter is looking at),
    found by firing there: the aim a player with this picture on screen would take."""
    for k in range(-300, 301):
        angle = math.atan2(view["ships"][1]["y"] - 500.0, view["ships"][1]["x"] - 200.0)
        angle += k * 0.002
        trial = copy.deepcopy(view)
        trial["ships"][0]["a"] = angle
        if hits(step(trial, {0: {"fire": True, "aim": angle}}), 30):
            return angle
    raise AssertionError("no angle hits the target as the shooter sees it")


class LagCompensationTests(unittest.TestCase):
    def world_and_view(self):
        """The world at tick T and the shooter's picture of it: the world at T - LATE."""
        state = step(arena(), {0: {"seen": 0}})  # the client says what it sees from the start
        views = {state["tick"]: copy.deepcopy(state)}
        for _ in range(12):
            state = step(state, {0: {"seen": max(0, state["tick"] - LATE)}})
            views[state["tick"]] = copy.deepcopy(state)
        return state, views[state["tick"] - LATE]

    def fire(self, state: dict, angle: float, **extra) -> list[dict]:
        state["ships"][0]["a"] = angle
        return hits(step(state, {0: {"fire": True, "aim": angle, **extra}}))

    def test_a_shot_aimed_at_the_world_seen_200_ms_late_hits_with_compensation(self):
        state, view = self.world_and_view()
        angle = aim_as_seen(view)
        seen = view["tick"]
        self.assertEqual(self.fire(copy.deepcopy(state), angle, seen=seen)[:1],
                         [{"e": "hit", "slot": 1, "by": 0}])  # fmt: skip

    def test_the_same_shot_misses_without_compensation(self):
        state, view = self.world_and_view()
        self.assertEqual(self.fire(copy.deepcopy(state), aim_as_seen(view)), [])

    def test_the_rewind_is_capped_at_a_quarter_of_a_second(self):
        state, _ = self.world_and_view()
        after = step(state, {0: {"fire": True, "aim": 0.0, "seen": 0}})
        self.assertEqual(after["ships"][0]["lag"], A.MAX_REWIND)
        self.assertLessEqual(A.MAX_REWIND / T.tick_hz, 0.25)
        self.assertEqual([shot[6] for shot in after["shots"]], [A.MAX_REWIND])
        self.assertLessEqual(len(after["past"]), A.MAX_REWIND + 1)

    def test_a_match_whose_clients_never_say_what_they_saw_keeps_no_history(self):
        state = arena()
        for _ in range(10):
            state = step(state, {0: {"fire": True, "aim": 0.5}})
        self.assertNotIn("past", state)
        self.assertTrue(all(len(shot) == 6 for shot in state["shots"]))

    def test_seen_must_be_a_tick(self):
        for bad in (-1, 1.5, "3", True):
            with self.assertRaises(InputError):
                T.validate_input({"fire": True, "seen": bad})
