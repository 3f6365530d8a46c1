"""The rules of Dots: one dot per player on a ``W`` x ``H`` grid and one star; a dot that
reaches the star scores and the star moves to a seeded random free cell."""

from __future__ import annotations

from typing import Any

from matches.titles import rng
from matches.titles.base import Field, InputError, Title, check_object, ranked_winner

W = 12
H = 8
MOVES = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


class Dots(Title):
    name = "dots"
    label = "Dots"
    tick_hz = 10
    min_players = 2
    max_players = 4
    default_max_players = 2
    blurb = "A test title: steer your dot to the star."
    help = "Move one cell with the arrow keys."

    def extra_fields(self) -> list[Field]:
        return [Field("score_to", "int", 3, "Stars to win", 1, 50)]

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        state = self.common_state(players=players, seed=seed, settings=settings)
        state["dots"] = [{"x": 1 + 3 * i, "y": H // 2, "next": None} for i in range(players)]
        state["star"] = [W - 1, 0]
        state["scores"] = [0] * players
        return state

    def validate_input(self, payload: Any) -> dict:
        check_object(payload, ("move",), InputError, "input", required=("move",))
        if payload["move"] not in MOVES:
            raise InputError(f"move must be one of {', '.join(MOVES)}", field="move")
        return {"move": payload["move"]}

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        self._check_slot(state, slot)
        if not state["finished"] and slot not in state["forfeited"]:
            state["dots"][slot]["next"] = inp["move"]
        return state

    def step(self, state: dict) -> dict:
        if state["finished"]:
            return state
        state["tick"] += 1
        state["events"] = []
        for slot, dot in enumerate(state["dots"]):
            if dot["next"] is None:
                continue
            dx, dy = MOVES[dot["next"]]
            dot["x"] = min(W - 1, max(0, dot["x"] + dx))
            dot["y"] = min(H - 1, max(0, dot["y"] + dy))
            dot["next"] = None
            if [dot["x"], dot["y"]] == state["star"]:
                self._score(state, slot)
                if state["finished"]:
                    break
        return state

    def _score(self, state: dict, slot: int) -> None:
        state["scores"][slot] += 1
        state["events"].append({"e": "star", "slot": slot})
        if state["scores"][slot] >= state["settings"]["score_to"]:
            self._finish(state, slot, "score")
            return
        taken = {(d["x"], d["y"]) for d in state["dots"]}
        free = [[x, y] for y in range(H) for x in range(W) if (x, y) not in taken]
        state["star"] = free[rng.draw_randint(state, 0, len(free) - 1)]

    @staticmethod
    def _finish(state: dict, winner: int | None, reason: str) -> None:
        state["finished"] = True
        state["winner"] = winner
        state["reason"] = reason

    def forfeit(self, state: dict, slot: int) -> dict:
        self._check_slot(state, slot)
        if state["finished"] or slot in state["forfeited"]:
            return state
        state["forfeited"].append(slot)
        left = [s for s in range(state["players"]) if s not in state["forfeited"]]
        if len(left) == 1:
            self._finish(state, left[0], "forfeit")
        return state

    def _ranking(self, state: dict) -> list[int]:
        gone = state["forfeited"]
        return sorted(range(state["players"]), key=lambda s: (s in gone, -state["scores"][s], s))

    def result(self, state: dict) -> dict:
        ranking = self._ranking(state)
        winner = state["winner"]
        if winner is None and state["finished"]:
            winner = ranked_winner(ranking, lambda s: state["scores"][s])
        return {
            "scores": list(state["scores"]),
            "winner": winner if state["finished"] else None,
            "ranking": ranking,
            "summary": "\u2013".join(str(state["scores"][s]) for s in ranking),
            "finished": state["finished"],
            "reason": state["reason"],
            "forfeited": list(state["forfeited"]),
        }

    def snapshot(self, state: dict) -> dict:
        return {
            "tick": state["tick"],
            "w": W,
            "h": H,
            "dots": [{"x": d["x"], "y": d["y"]} for d in state["dots"]],
            "star": list(state["star"]),
            "scores": list(state["scores"]),
            "finished": state["finished"],
            "winner": state["winner"],
            "events": list(state["events"]),
        }

    def bot_input(self, state: dict, slot: int) -> dict | None:
        if state["finished"] or slot in state["forfeited"]:
            return None
        dot, (sx, sy) = state["dots"][slot], state["star"]
        if dot["x"] != sx:
            return {"move": "right" if sx > dot["x"] else "left"}
        return {"move": "down" if sy > dot["y"] else "up"} if dot["y"] != sy else None


TITLE = Dots()
