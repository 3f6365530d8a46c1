"""Snake: 2-8 snakes on a grid, eat food to grow, the last snake standing wins.

Cells are stored as ints ``y * width + x`` (bodies head first) to keep the state
small and the step fast; snapshots give ``[x, y]`` pairs.  y grows downwards.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from .. import rng
from ..base import Field, InputError, Title, check_object, ranked_winner

DIRS = ("up", "down", "left", "right")
DX = {"up": 0, "down": 0, "left": -1, "right": 1}
DY = {"up": -1, "down": 1, "left": 0, "right": 0}
OPPOSITE = {"up": "down", "down": "up", "left": "right", "right": "left"}
START_LENGTH = 3
FOOD_TRIES = 16  # random probes before falling back to listing the free cells

# Start spots: top row heading down, bottom row heading up, in offset columns so
# no two snakes start on a collision course; taken in this order to spread out.
_SPOT_ORDER = (("top", 0), ("bottom", 3), ("top", 2), ("bottom", 1))
_SPOT_ORDER += (("top", 1), ("bottom", 2), ("top", 3), ("bottom", 0))


def start_spots(w: int, h: int) -> list[tuple[int, int, str]]:
    """The 8 start spots ``(x, y, heading)`` in spreading order."""
    spots = []
    for row, col in _SPOT_ORDER:
        if row == "top":
            spots.append(((w * (4 * col + 1)) // 16, h // 4, "down"))
        else:
            spots.append(((w * (4 * col + 3)) // 16, h - 1 - h // 4, "up"))
    return spots


class Snake(Title):
    name = "snake"
    label = "Snake"
    version = 1
    tick_hz = 10
    min_players = 2
    max_players = 8
    default_max_players = 4
    pauses_on_disconnect = False
    blurb = "Eat, grow, be the last snake standing. Arrow keys or WASD, swipe on a phone."
    help = "Turn with the arrow keys or WASD; swipe on a touch screen."

    def extra_fields(self) -> list[Field]:
        return [
            Field("width", "int", 32, "Grid width", 16, 64, unit="cells"),
            Field("height", "int", 32, "Grid height", 16, 64, unit="cells"),
            Field("time_limit_s", "int", 180, "Time limit", 30, 600, unit="s"),
        ]

    # -- setup

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        settings = self._prepare(players, seed, settings)
        w, h = settings["width"], settings["height"]
        state = {
            "title": self.name,
            "v": self.version,
            "tick": 0,
            "players": players,
            "settings": settings,
            "rng": rng.seed_state(seed, 1),
            "w": w,
            "h": h,
            "end_tick": settings["time_limit_s"] * self.tick_hz,
            "food_target": players,
            "snakes": [],
            "food": [],
            "finished": False,
            "winner": None,
            "reason": None,
            "forfeited": [],
            "events": [],
        }
        spots = start_spots(w, h)[:players]
        flip_x = rng.draw_randint(state, 0, 1)
        flip_y = rng.draw_randint(state, 0, 1)
        spots, state["rng"] = rng.shuffled(state["rng"], spots)
        for x, y, heading in spots:
            if flip_x:
                x = w - 1 - x
            if flip_y:
                y, heading = h - 1 - y, OPPOSITE[heading]
            bx, by = -DX[heading], -DY[heading]
            body = [(y + by * k) * w + (x + bx * k) for k in range(START_LENGTH)]
            state["snakes"].append(
                {
                    "body": body,
                    "dir": heading,
                    "next": heading,
                    "alive": True,
                    "eaten": 0,
                    "died_at": None,
                    "cause": None,
                }
            )
        self._spawn_food(state)
        return state

    def _spawn_food(self, state: dict) -> None:
        missing = state["food_target"] - len(state["food"])
        if missing <= 0:
            return
        w, h = state["w"], state["h"]
        taken = set(state["food"])
        for s in state["snakes"]:
            if s["alive"]:
                taken.update(s["body"])
        last = w * h - 1
        for _ in range(missing):
            cell = None
            for _ in range(FOOD_TRIES):
                c = rng.draw_randint(state, 0, last)
                if c not in taken:
                    cell = c
                    break
            if cell is None:
                free = [c for c in range(last + 1) if c not in taken]
                if not free:
                    return
                cell = free[rng.draw_randint(state, 0, len(free) - 1)]
            taken.add(cell)
            state["food"].append(cell)

    # -- inputs

    def validate_input(self, payload: Any) -> dict:
        check_object(payload, ("turn",), InputError, "input", required=("turn",))
        turn = payload["turn"]
        if not isinstance(turn, str) or turn not in DX:
            raise InputError("turn must be one of up, down, left, right", field="turn")
        return {"turn": turn}

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        self._check_slot(state, slot)
        if state["finished"]:
            return state
        s = state["snakes"][slot]
        if not s["alive"]:
            return state
        turn = inp["turn"]
        if turn != OPPOSITE[s["dir"]]:  # turning back into itself is ignored
            s["next"] = turn
        return state

    # -- simulation

    def step(self, state: dict) -> dict:
        if state["finished"]:
            return state
        tick = state["tick"] = state["tick"] + 1
        events = state["events"] = []
        w, h = state["w"], state["h"]
        snakes = state["snakes"]
        food_set = set(state["food"])
        moved: dict[int, list[int]] = {}
        heads: dict[int, int] = {}
        deaths: dict[int, tuple[str, int | None]] = {}
        for i, s in enumerate(snakes):
            if not s["alive"]:
                continue
            d = s["dir"] = s["next"]
            body = s["body"]
            head = body[0]
            x = head % w + DX[d]
            y = head // w + DY[d]
            if x < 0 or y < 0 or x >= w or y >= h:
                deaths[i] = ("wall", None)
                continue
            c = y * w + x
            moved[i] = [c, *body] if c in food_set else [c, *islice(body, len(body) - 1)]
            heads[c] = heads.get(c, 0) + 1
        # Everything a head can run into after this tick's moves (heads excluded).
        owner: dict[int, int] = {}
        for i, nb in moved.items():
            for c in islice(nb, 1, None):
                owner[c] = i
        for i in deaths:
            for c in snakes[i]["body"]:
                owner[c] = i
        for i, nb in moved.items():
            c = nb[0]
            if heads[c] > 1:
                others = [j for j, ob in moved.items() if ob[0] == c and j != i]
                deaths[i] = ("head", others[0])
            elif c in owner:
                deaths[i] = ("self", i) if owner[c] == i else ("snake", owner[c])
        for i in sorted(deaths):
            cause, by = deaths[i]
            s = snakes[i]
            s["alive"] = False
            s["died_at"] = tick
            s["cause"] = cause
            events.append({"e": "die", "slot": i, "cause": cause, "by": by})
        ate = False
        for i, nb in moved.items():
            if i in deaths:
                continue
            snakes[i]["body"] = nb
            if nb[0] in food_set:
                food_set.discard(nb[0])
                snakes[i]["eaten"] += 1
                events.append({"e": "eat", "slot": i})
                ate = True
        if ate:
            state["food"] = [c for c in state["food"] if c in food_set]
            self._spawn_food(state)
        alive = sum(1 for s in snakes if s["alive"])
        if alive <= 1:
            self._finish(state, "last_standing" if alive == 1 else "all_dead")
        elif tick >= state["end_tick"]:
            self._finish(state, "time_up")
        return state

    def _finish(self, state: dict, reason: str) -> None:
        state["finished"] = True
        state["reason"] = reason
        ranking = self._ranking(state)
        state["winner"] = ranked_winner(ranking, lambda i: self._rank_key(state, i)[:-1])

    @staticmethod
    def _rank_key(state: dict, i: int) -> tuple:
        s = state["snakes"][i]
        length = len(s["body"])
        if s["alive"]:
            return (0, 0, -length, i)
        group = 2 if i in state["forfeited"] else 1
        return (group, -s["died_at"], -length, i)

    def _ranking(self, state: dict) -> list[int]:
        return sorted(range(state["players"]), key=lambda i: self._rank_key(state, i))

    def forfeit(self, state: dict, slot: int) -> dict:
        self._check_slot(state, slot)
        s = state["snakes"][slot]
        if state["finished"] or not s["alive"]:
            return state
        s["alive"] = False
        s["died_at"] = state["tick"]
        s["cause"] = "forfeit"
        state["forfeited"].append(slot)
        state["events"].append({"e": "die", "slot": slot, "cause": "forfeit", "by": None})
        alive = sum(1 for s in state["snakes"] if s["alive"])
        if alive <= 1:
            self._finish(state, "last_standing" if alive == 1 else "all_dead")
        return state

    # -- outcome and views

    def result(self, state: dict) -> dict:
        scores = [s["eaten"] for s in state["snakes"]]
        ranking = self._ranking(state)
        winner = state["winner"] if state["finished"] else None
        summary = "\u2013".join(str(scores[i]) for i in ranking)
        if state["finished"] and winner is None:
            summary += " (draw)"
        elif state["reason"] == "time_up":
            summary += " (time up)"
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
        w = state["w"]
        return {
            "tick": state["tick"],
            "w": w,
            "h": state["h"],
            "ticks_left": max(0, state["end_tick"] - state["tick"]),
            "snakes": [
                {
                    "body": [[c % w, c // w] for c in s["body"]],
                    "dir": s["dir"],
                    "alive": s["alive"],
                    "len": len(s["body"]),
                    "score": s["eaten"],
                }
                for s in state["snakes"]
            ],
            "food": [[c % w, c // w] for c in state["food"]],
            "scores": [s["eaten"] for s in state["snakes"]],
            "finished": state["finished"],
            "winner": state["winner"],
            "events": list(state["events"]),
        }
