"""Pong: two paddles, one ball, first to ``score_to`` points wins.

Coordinates: the field is ``W`` x ``H`` units, origin top-left, y grows
downwards.  Slot 0 is the left paddle, slot 1 the right one.  Internally
velocities are in units per tick; snapshots report them per second.
"""

from __future__ import annotations

import math
from typing import Any

from .. import rng
from ..base import Field, InputError, Title, check_int, check_object, r1

W = 800.0
H = 500.0
PADDLE_W = 12.0
PADDLE_H = 80.0
HALF = PADDLE_H / 2
PADDLE_INSET = 24.0  # distance from the goal line to the paddle's outer edge
LEFT_FACE = PADDLE_INSET + PADDLE_W  # x of the left paddle's front face
RIGHT_FACE = W - PADDLE_INSET - PADDLE_W  # x of the right paddle's front face
BALL_R = 7.0
PADDLE_SPEED = 10.0  # units per tick
SERVE_SPEED = 9.0  # units per tick
SPEEDUP = 1.06  # factor per paddle hit
MAX_SPEED = 22.0  # units per tick
MAX_BOUNCE = math.radians(55)  # outgoing angle when hitting the very edge
SERVE_ANGLE = 0.45  # serves leave within +-SERVE_ANGLE radians of horizontal
FIRST_SERVE_TICKS = 45
SERVE_TICKS = 30

Y_LO = BALL_R
Y_HI = H - BALL_R
_SPAN = Y_HI - Y_LO
# x of the ball's centre when its edge touches each paddle's face (the bot aims at them too)
PLANES = (LEFT_FACE + BALL_R, RIGHT_FACE - BALL_R)


def fold(y: float) -> tuple[float, int]:
    """Fold an unconstrained y into ``[Y_LO, Y_HI]`` by reflecting off the walls.

    Returns the folded y and the number of wall reflections.
    """
    if Y_LO <= y <= Y_HI:
        return y, 0
    m = y - Y_LO
    n = math.floor(m / _SPAN)
    r = m - n * _SPAN
    if n % 2:
        r = _SPAN - r
    return Y_LO + r, abs(n)


class Pong(Title):
    name = "pong"
    label = "Pong"
    version = 1
    tick_hz = 30
    min_players = 2
    max_players = 2
    default_max_players = 2
    pauses_on_disconnect = True
    # A duel: Elo's one number is what Pong players know, and two players need no more.
    rating_system = "elo"
    blurb = "Two paddles, one ball. Arrow keys or W/S."
    help = "Move with ↑ ↓ or W S."

    def extra_fields(self) -> list[Field]:
        return [Field("score_to", "int", 11, "Points to win", 1, 21, unit="points")]

    # -- setup

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        settings = self._prepare(players, seed, settings)
        state = {
            "title": self.name,
            "v": self.version,
            "tick": 0,
            "players": players,
            "settings": settings,
            "rng": rng.seed_state(seed, 1),
            "bot_seed": rng.seed_state(seed, 2),
            "paddles": [{"y": H / 2, "dir": 0}, {"y": H / 2, "dir": 0}],
            "ball": {"x": W / 2, "y": H / 2, "vx": 0.0, "vy": 0.0, "speed": SERVE_SPEED},
            "serve_in": FIRST_SERVE_TICKS,
            "serve_to": 0,
            "flight": 0,
            "since_hit": 0,
            "rally": 0,
            "scores": [0, 0],
            "hits": [0, 0],
            "finished": False,
            "winner": None,
            "reason": None,
            "forfeited": [],
            "events": [],
        }
        state["serve_to"] = rng.draw_randint(state, 0, 1)
        return state

    # -- inputs

    def validate_input(self, payload: Any) -> dict:
        check_object(payload, ("dir",), InputError, "input", required=("dir",))
        return {"dir": check_int(payload["dir"], "dir", -1, 1, InputError)}

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        self._check_slot(state, slot)
        if state["finished"] or slot in state["forfeited"]:
            return state
        state["paddles"][slot]["dir"] = inp["dir"]
        return state

    def apply_late_input(self, state: dict, slot: int, inp: dict, late: int) -> dict:
        """The paddle where it would be had the new ``dir`` been held for the ``late`` ticks
        since the input's ``at``: what the predicting browser drew."""
        self._check_slot(state, slot)
        if state["finished"] or slot in state["forfeited"]:
            return state
        paddle = state["paddles"][slot]
        y = paddle["y"] + (inp["dir"] - paddle["dir"]) * PADDLE_SPEED * late
        paddle["y"] = HALF if y < HALF else (H - HALF if y > H - HALF else y)
        paddle["dir"] = inp["dir"]
        return state

    # -- simulation

    def step(self, state: dict) -> dict:
        if state["finished"]:
            return state
        state["tick"] += 1
        events = state["events"] = []
        for p in state["paddles"]:
            d = p["dir"]
            if d:
                y = p["y"] + d * PADDLE_SPEED
                p["y"] = HALF if y < HALF else (H - HALF if y > H - HALF else y)
        if state["serve_in"] > 0:
            state["serve_in"] -= 1
            if state["serve_in"] == 0:
                self._serve(state)
                events.append({"e": "serve", "to": state["serve_to"]})
            return state
        state["since_hit"] += 1
        ball = state["ball"]
        x0, y0, vx, vy = ball["x"], ball["y"], ball["vx"], ball["vy"]
        side = 0 if vx < 0 else 1
        plane = PLANES[side]
        x1 = x0 + vx
        crossed = (x0 >= plane > x1) if side == 0 else (x0 <= plane < x1)
        if crossed:
            # Sweep: where is the ball when its edge reaches the paddle face?
            t = (plane - x0) / vx
            yh, flips = fold(y0 + vy * t)
            py = state["paddles"][side]["y"]
            if abs(yh - py) <= HALF + BALL_R:
                if flips:
                    events.append({"e": "wall"})
                self._bounce_off_paddle(state, side, yh, py, 1.0 - t)
                return state
        y1, flips = fold(y0 + vy)
        if flips:
            events.append({"e": "wall"})
            if flips % 2:
                vy = -vy
        if x1 < 0.0:
            self._point(state, 1)
        elif x1 > W:
            self._point(state, 0)
        else:
            ball["x"], ball["y"], ball["vy"] = x1, y1, vy
        return state

    def _bounce_off_paddle(self, state: dict, side: int, yh: float, py: float, rest: float):
        ball = state["ball"]
        offset = (yh - py) / (HALF + BALL_R)
        offset = -1.0 if offset < -1.0 else (1.0 if offset > 1.0 else offset)
        angle = offset * MAX_BOUNCE
        speed = min(ball["speed"] * SPEEDUP, MAX_SPEED)
        vx = speed * math.cos(angle) * (1.0 if side == 0 else -1.0)
        vy = speed * math.sin(angle)
        y, flips = fold(yh + vy * rest)
        if flips % 2:
            vy = -vy
        ball["x"] = PLANES[side] + vx * rest
        ball["y"] = y
        ball["vx"], ball["vy"], ball["speed"] = vx, vy, speed
        state["hits"][side] += 1
        state["rally"] += 1
        state["flight"] += 1
        state["since_hit"] = 0
        state["events"].append({"e": "hit", "slot": side})

    def _serve(self, state: dict) -> None:
        angle = rng.draw_uniform(state, -SERVE_ANGLE, SERVE_ANGLE)
        sign = -1.0 if state["serve_to"] == 0 else 1.0
        ball = state["ball"]
        ball["vx"] = sign * SERVE_SPEED * math.cos(angle)
        ball["vy"] = SERVE_SPEED * math.sin(angle)
        ball["speed"] = SERVE_SPEED
        state["flight"] += 1
        state["since_hit"] = 0

    def _point(self, state: dict, scorer: int) -> None:
        state["scores"][scorer] += 1
        state["events"].append({"e": "point", "slot": scorer})
        state["ball"] = {"x": W / 2, "y": H / 2, "vx": 0.0, "vy": 0.0, "speed": SERVE_SPEED}
        state["rally"] = 0
        state["serve_to"] = 1 - scorer
        if state["scores"][scorer] >= state["settings"]["score_to"]:
            state["finished"] = True
            state["winner"] = scorer
            state["reason"] = "score"
            state["serve_in"] = 0
        else:
            state["serve_in"] = SERVE_TICKS

    def forfeit(self, state: dict, slot: int) -> dict:
        self._check_slot(state, slot)
        if state["finished"]:
            return state
        state["forfeited"].append(slot)
        state["finished"] = True
        state["winner"] = 1 - slot
        state["reason"] = "forfeit"
        state["serve_in"] = 0
        ball = state["ball"]
        ball["vx"] = ball["vy"] = 0.0
        state["events"] = [{"e": "forfeit", "slot": slot}]
        return state

    # -- outcome and views

    def result(self, state: dict) -> dict:
        scores = list(state["scores"])
        winner = state["winner"] if state["finished"] else None
        if winner is not None:
            ranking = [winner, 1 - winner]
        else:
            ranking = sorted((0, 1), key=lambda s: (-scores[s], s))
        summary = f"{scores[0]}\u2013{scores[1]}"
        if state["reason"] == "forfeit":
            summary += " (forfeit)"
        return {
            "scores": scores,
            "winner": winner,
            "ranking": ranking,
            "summary": summary,
            "finished": state["finished"],
            "reason": state["reason"],
            "forfeited": list(state["forfeited"]),
        }

    def snapshot(self, state: dict) -> dict:
        ball = state["ball"]
        hz = self.tick_hz
        return {
            "tick": state["tick"],
            "w": W,
            "h": H,
            "paddle_w": PADDLE_W,
            "paddle_h": PADDLE_H,
            "paddle_x": [PADDLE_INSET, RIGHT_FACE],
            "ball_r": BALL_R,
            "paddles": [{"y": r1(p["y"]), "dir": p["dir"]} for p in state["paddles"]],
            "ball": {
                "x": r1(ball["x"]),
                "y": r1(ball["y"]),
                "vx": r1(ball["vx"] * hz),
                "vy": r1(ball["vy"] * hz),
            },
            "serve_in": state["serve_in"],
            "serve_to": state["serve_to"],
            "rally": state["rally"],
            "scores": list(state["scores"]),
            "score_to": state["settings"]["score_to"],
            "finished": state["finished"],
            "winner": state["winner"],
            "events": list(state["events"]),
        }
