"""Thrust Arena: 2-64 ships with inertia shoot each other; most kills wins.

The world is ``state["w"]`` x ``state["h"]`` units (``world_size``: ``W`` x ``H`` up to
8 players, its area growing in proportion to the players beyond), origin top-left,
y grows downwards, angles in radians measured from the +x axis towards +y (clockwise on
screen), kept in [-pi, pi).
Internally velocities are units per tick; snapshots report them per second.
Shots are stored as lists ``[x, y, vx, vy, owner, ticks_left]``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import rng
from ..base import (
    Field,
    InputError,
    Title,
    check_bool,
    check_float,
    check_int,
    check_object,
    r1,
    ranked_winner,
)

W = 1000.0  # world size up to BASE_PLAYERS players
H = 1000.0
BASE_PLAYERS = 8  # beyond this many players the world's area grows in proportion
SHIP_R = 14.0
TURN_RATE = 0.14  # radians per tick (4.2 rad/s)
THRUST = 0.45  # units per tick per tick (405 u/s^2)
DRAG = 0.985  # velocity factor per tick
MAX_SPEED = 9.0  # units per tick (270 u/s)
WALL_BOUNCE = 0.5  # fraction of the normal speed kept when bouncing off a wall
SHOT_SPEED = 18.0  # units per tick (540 u/s)
SHOT_LIFE = 36  # ticks (1.2 s, range 648 units)
SHOT_R = 3.0
COOLDOWN = 9  # ticks between two shots of a ship (0.3 s)
INVULN_TICKS = 60  # spawn protection (2 s); firing ends it early
MAX_REWIND = 7  # ticks (233 ms): how far back lag compensation checks a shot's hits
SPAWN_RING = 350.0  # start positions: on a circle of this radius x w / W around the centre
SPAWN_MARGIN = 80.0  # respawn points are at least this far from the walls
SPAWN_CANDIDATES = 8  # respawn: best of this many random points (farthest from ships)

TAU = 2.0 * math.pi
HIT_R = SHIP_R + SHOT_R
_HIT_R2 = HIT_R * HIT_R
_REACH = SHOT_SPEED + HIT_R
SHOT_V2 = SHOT_SPEED * SHOT_SPEED
_NOSE = SHIP_R + SHOT_R
# Hit-test grid: a shot only looks at ships within _REACH of where it gets to; the cells
# looked at cover that box plus a 1-unit margin (against rounding), at most 2 x 2 cells.
_LOOK = _REACH + 1.0
_CELL = 2.0 * _LOOK
_GRID_STRIDE = 1 << 12  # key = column * stride + row; rows of a world fit well within it

NO_CONTROLS = {"thrust": False, "turn": 0, "fire": False, "aim": None}


def norm_angle(a: float) -> float:
    """An angle in ``[-pi, pi)``."""
    if -math.pi <= a < math.pi:
        return a
    return (a + math.pi) % TAU - math.pi


def world_size(players: int) -> tuple[float, float]:
    """The world's (w, h) for a match of ``players``: W x H up to BASE_PLAYERS players,
    then the area grows with the player count (side x sqrt(players / BASE_PLAYERS)), so
    that each ship has about the room it has in an 8-player match."""
    if players <= BASE_PLAYERS:
        return W, H
    k = math.sqrt(players / BASE_PLAYERS)
    return float(round(W * k)), float(round(H * k))


def world_of(state: dict) -> tuple[float, float]:
    """The state's world size (states made before the world grew with players lack it)."""
    return state.get("w", W), state.get("h", H)


def clamp_speed(vx: float, vy: float, limit: float = MAX_SPEED) -> tuple[float, float]:
    """Scale (vx, vy) down so that ``math.hypot(vx, vy) <= limit`` exactly."""
    speed = math.hypot(vx, vy)
    if speed <= limit:
        return vx, vy
    k = limit / speed
    vx *= k
    vy *= k
    while math.hypot(vx, vy) > limit:  # guard against rounding up by an ulp
        vx *= 0.999999999999
        vy *= 0.999999999999
    return vx, vy


class Arena(Title):
    name = "arena"
    label = "Thrust Arena"
    version = 1
    tick_hz = 30
    min_players = 2
    max_players = 64
    default_max_players = 8
    pauses_on_disconnect = False
    blurb = "Ships with inertia: aim with the mouse, right button or W to thrust, click to fire."
    help = (
        "Aim with the mouse, click (or Space) to fire, right button (or ↑ / W) to thrust;"
        " ← → or A D turn."
    )

    def extra_fields(self) -> list[Field]:
        return [
            Field("time_limit_s", "int", 180, "Time limit", 30, 900, unit="s"),
            Field("respawn_s", "float", 3.0, "Respawn delay", 1.0, 10.0, unit="s"),
            Field(
                "hp", "int", 3, "Hit points", 1, 10, help="Hits a ship takes before it blows up."
            ),
            Field(
                "kill_limit",
                "int",
                0,
                "Kill limit",
                0,
                100,
                help="The match ends when a ship reaches this many kills (0 = no limit).",
            ),
        ]

    # -- setup

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        settings = self._prepare(players, seed, settings)
        w, h = world_size(players)
        state = {
            "title": self.name,
            "v": self.version,
            "tick": 0,
            "players": players,
            "w": w,
            "h": h,
            "settings": settings,
            "rng": rng.seed_state(seed, 1),
            "bot_seed": rng.seed_state(seed, 2),
            "end_tick": settings["time_limit_s"] * self.tick_hz,
            "respawn_ticks": self.ticks(settings["respawn_s"]),
            "ships": [],
            "shots": [],
            "finished": False,
            "winner": None,
            "reason": None,
            "forfeited": [],
            "events": [],
        }
        a0 = rng.draw_uniform(state, 0.0, TAU)
        order, state["rng"] = rng.shuffled(state["rng"], range(players))
        ring = SPAWN_RING * min(w / W, h / H)
        for i in range(players):
            angle = a0 + TAU * order[i] / players
            x = w / 2 + ring * math.cos(angle)
            y = h / 2 + ring * math.sin(angle)
            ship = self._new_ship(settings["hp"])
            ship.update(x=x, y=y, a=norm_angle(angle + math.pi))
            state["ships"].append(ship)
        return state

    @staticmethod
    def _new_ship(hp: int) -> dict:
        return {
            "x": W / 2,
            "y": H / 2,
            "vx": 0.0,
            "vy": 0.0,
            "a": 0.0,
            "hp": hp,
            "alive": True,
            "active": True,
            "respawn_in": 0,
            "inv": INVULN_TICKS,
            "cd": 0,
            "kills": 0,
            "deaths": 0,
            **NO_CONTROLS,
        }

    # -- inputs

    def validate_input(self, payload: Any) -> dict:
        check_object(payload, ("thrust", "turn", "fire", "aim", "seen"), InputError, "input")
        out = dict(NO_CONTROLS)
        if "thrust" in payload:
            out["thrust"] = check_bool(payload["thrust"], "thrust", InputError)
        if "turn" in payload:
            out["turn"] = check_int(payload["turn"], "turn", -1, 1, InputError)
        if "fire" in payload:
            out["fire"] = check_bool(payload["fire"], "fire", InputError)
        if payload.get("aim") is not None:
            out["aim"] = norm_angle(check_float(payload["aim"], "aim", -TAU, TAU, InputError))
        if payload.get("seen") is not None:
            out["seen"] = check_int(payload["seen"], "seen", 0, 2**31, InputError)
        return out

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        self._check_slot(state, slot)
        ship = state["ships"][slot]
        if state["finished"] or not ship["active"]:
            return state
        # A destroyed ship waiting to respawn keeps the controls for when it is back.
        ship["thrust"] = inp["thrust"]
        ship["turn"] = inp["turn"]
        ship["fire"] = inp["fire"]
        ship["aim"] = inp["aim"]
        seen = inp.get("seen")
        if seen is not None:
            # The shooter looked at tick `seen`: a shot's first move (next tick) meets the
            # ships of tick seen + 1, as on its screen; at most MAX_REWIND ticks back.
            ship["lag"] = min(MAX_REWIND, max(0, state["tick"] - seen))
            state["rewinds"] = True
        elif ship.get("lag"):
            ship["lag"] = 0
        return state

    # -- simulation

    def step(self, state: dict) -> dict:
        if state["finished"]:
            return state
        state["tick"] += 1
        events = state["events"] = []
        ships = state["ships"]
        shots = state["shots"]
        cos, sin, hypot = math.cos, math.sin, math.hypot
        w, h = world_of(state)
        lo, hi_x, hi_y = SHIP_R, w - SHIP_R, h - SHIP_R
        for i, s in enumerate(ships):
            if not s["active"]:
                continue
            if not s["alive"]:
                s["respawn_in"] -= 1
                if s["respawn_in"] <= 0:
                    self._respawn(state, i)
                continue
            a = s["a"]
            aim = s["aim"]
            if aim is not None:
                diff = norm_angle(aim - a)
                a = aim if -TURN_RATE <= diff <= TURN_RATE else a + math.copysign(TURN_RATE, diff)
            elif s["turn"]:
                a += s["turn"] * TURN_RATE
            a = s["a"] = norm_angle(a)
            ca, sa = cos(a), sin(a)
            vx, vy = s["vx"], s["vy"]
            if s["thrust"]:
                vx += THRUST * ca
                vy += THRUST * sa
            vx *= DRAG
            vy *= DRAG
            if hypot(vx, vy) > MAX_SPEED:
                vx, vy = clamp_speed(vx, vy)
            x = s["x"] + vx
            y = s["y"] + vy
            if x < lo:
                x, vx = lo, -vx * WALL_BOUNCE if vx < 0 else vx
            elif x > hi_x:
                x, vx = hi_x, -vx * WALL_BOUNCE if vx > 0 else vx
            if y < lo:
                y, vy = lo, -vy * WALL_BOUNCE if vy < 0 else vy
            elif y > hi_y:
                y, vy = hi_y, -vy * WALL_BOUNCE if vy > 0 else vy
            s["x"], s["y"], s["vx"], s["vy"] = x, y, vx, vy
            if s["inv"] > 0:
                s["inv"] -= 1
            if s["cd"] > 0:
                s["cd"] -= 1
            if s["fire"] and s["cd"] == 0:
                shot = [x + _NOSE * ca, y + _NOSE * sa, SHOT_SPEED * ca, SHOT_SPEED * sa, i,
                        SHOT_LIFE]  # fmt: skip
                if s.get("lag"):
                    shot.append(s["lag"])  # a 7th field: the ticks its hits are checked back
                shots.append(shot)
                s["cd"] = COOLDOWN
                s["inv"] = 0
                events.append({"e": "fire", "slot": i})
        if state.get("rewinds"):
            self._remember_positions(state)
        if shots:
            state["shots"] = self._move_shots(state, shots)
        self._check_end(state)
        return state

    @staticmethod
    def _remember_positions(state: dict) -> None:
        """The ships' positions of this tick (None: not in play), the last MAX_REWIND + 1
        ticks kept; only once a shooter has said what it saw (``seen``)."""
        past = state.setdefault("past", [])
        past.append([state["tick"], [[s["x"], s["y"]] if s["alive"] and s["active"] else None
                                     for s in state["ships"]]])  # fmt: skip
        if len(past) > MAX_REWIND + 1:
            del past[0]

    @staticmethod
    def _past_hit(state: dict, shot: list) -> int | None:
        """The ship a lag-compensated shot hits this tick: its path against the ships where
        they were ``shot[6]`` ticks ago (the oldest kept if not that far), those still in
        play now; the first on the path, the lowest slot on a tie."""
        x0, y0, vx, vy, owner = shot[:5]
        want = state["tick"] - shot[6]
        positions = None
        for tick, ships in state.get("past", ()):
            if tick >= want:
                positions = ships
                break
        if positions is None:
            return None
        hit, first = None, 2.0
        for i, p in enumerate(positions):
            s = state["ships"][i]
            if p is None or i == owner or not (s["alive"] and s["active"]):
                continue
            fx, fy = x0 - p[0], y0 - p[1]
            t = -(fx * vx + fy * vy) / SHOT_V2
            t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
            dx, dy = fx + vx * t, fy + vy * t
            if dx * dx + dy * dy <= _HIT_R2 and t < first:
                hit, first = i, t
        return hit

    def _move_shots(self, state: dict, shots: list) -> list:
        """Move the shots one tick; a shot hits the ship its path reaches first (the lowest
        slot on a tie) among the ships alive when the tick's shots start moving.

        The ships are bucketed in a uniform grid of ``_CELL`` squares, so that each shot
        only looks at the ships of the (at most 2 x 2) cells within ``_REACH`` of it:
        O(shots + ships) instead of O(shots x ships), with the same hits as testing every
        ship (the cells looked at cover the whole ``_REACH`` box, with a margin)."""
        w, h = world_of(state)
        grid: dict[int, list] = {}
        for i, s in enumerate(state["ships"]):
            if s["alive"] and s["active"]:
                key = int(s["x"] // _CELL) * _GRID_STRIDE + int(s["y"] // _CELL)
                bucket = grid.get(key)
                if bucket is None:
                    grid[key] = [(i, s)]
                else:
                    bucket.append((i, s))
        get = grid.get
        kept = []
        for shot in shots:
            if len(shot) > 6:  # lag-compensated: its hits are checked in the past
                hit = self._past_hit(state, shot)
                if hit is not None:
                    self._hit(state, hit, shot[4])
                    continue
                x1, y1, life = shot[0] + shot[2], shot[1] + shot[3], shot[5] - 1
                if life <= 0 or x1 < 0.0 or x1 > w or y1 < 0.0 or y1 > h:
                    continue
                shot[0], shot[1], shot[5] = x1, y1, life
                kept.append(shot)
                continue
            x0, y0, vx, vy, owner, life = shot
            x1 = x0 + vx
            y1 = y0 + vy
            hit = None
            first = 2.0
            gx0 = int((x1 - _LOOK) // _CELL) * _GRID_STRIDE
            gx1 = int((x1 + _LOOK) // _CELL) * _GRID_STRIDE
            gy0 = int((y1 - _LOOK) // _CELL)
            gy1 = int((y1 + _LOOK) // _CELL)
            if gx0 == gx1:
                keys = (gx0 + gy0,) if gy0 == gy1 else (gx0 + gy0, gx0 + gy1)
            elif gy0 == gy1:
                keys = (gx0 + gy0, gx1 + gy0)
            else:
                keys = (gx0 + gy0, gx0 + gy1, gx1 + gy0, gx1 + gy1)
            for key in keys:
                bucket = get(key)
                if bucket is None:
                    continue
                for i, s in bucket:
                    if i == owner:
                        continue
                    cx, cy = s["x"], s["y"]
                    if abs(cx - x1) > _REACH or abs(cy - y1) > _REACH:
                        continue
                    # Closest approach of the segment (x0, y0) -> (x1, y1) to the ship's centre.
                    fx, fy = x0 - cx, y0 - cy
                    t = -(fx * vx + fy * vy) / SHOT_V2
                    t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
                    dx, dy = fx + vx * t, fy + vy * t
                    if (
                        dx * dx + dy * dy <= _HIT_R2
                        and (t < first or (t == first and i < hit))
                        and s["alive"]
                    ):
                        hit, first = i, t
            if hit is not None:
                self._hit(state, hit, owner)
                continue
            life -= 1
            if life <= 0 or x1 < 0.0 or x1 > w or y1 < 0.0 or y1 > h:
                continue
            shot[0], shot[1], shot[5] = x1, y1, life
            kept.append(shot)
        return kept

    def _hit(self, state: dict, victim: int, owner: int) -> None:
        s = state["ships"][victim]
        if s["inv"] > 0:
            state["events"].append({"e": "shield", "slot": victim, "by": owner})
            return
        s["hp"] -= 1
        state["events"].append({"e": "hit", "slot": victim, "by": owner})
        if s["hp"] <= 0:
            s["alive"] = False
            s["hp"] = 0
            s["vx"] = s["vy"] = 0.0
            s["respawn_in"] = state["respawn_ticks"]
            s["deaths"] += 1
            state["ships"][owner]["kills"] += 1
            state["events"].append({"e": "kill", "slot": victim, "by": owner})

    def _respawn(self, state: dict, i: int) -> None:
        others = [(o["x"], o["y"]) for j, o in enumerate(state["ships"]) if j != i and o["alive"]]
        w, h = world_of(state)
        best = None
        best_d2 = -1.0
        for _ in range(SPAWN_CANDIDATES):
            x = rng.draw_uniform(state, SPAWN_MARGIN, w - SPAWN_MARGIN)
            y = rng.draw_uniform(state, SPAWN_MARGIN, h - SPAWN_MARGIN)
            d2 = min(((x - ox) ** 2 + (y - oy) ** 2 for ox, oy in others), default=0.0)
            if d2 > best_d2:
                best, best_d2 = (x, y), d2
        x, y = best
        s = state["ships"][i]
        s.update(
            x=x,
            y=y,
            vx=0.0,
            vy=0.0,
            a=norm_angle(math.atan2(h / 2 - y, w / 2 - x)),
            hp=state["settings"]["hp"],
            alive=True,
            respawn_in=0,
            inv=INVULN_TICKS,
            cd=0,
        )
        state["events"].append({"e": "respawn", "slot": i})

    def _check_end(self, state: dict) -> None:
        limit = state["settings"]["kill_limit"]
        if limit and any(s["kills"] >= limit for s in state["ships"]):
            self._finish(state, "kill_limit")
        elif state["tick"] >= state["end_tick"]:
            self._finish(state, "time_up")

    def _finish(self, state: dict, reason: str) -> None:
        state["finished"] = True
        state["reason"] = reason
        state["shots"] = []
        ranking = self._ranking(state)
        state["winner"] = ranked_winner(ranking, lambda i: self._rank_key(state, i)[:-1])

    @staticmethod
    def _rank_key(state: dict, i: int) -> tuple:
        s = state["ships"][i]
        return (0 if s["active"] else 1, -s["kills"], s["deaths"], i)

    def _ranking(self, state: dict) -> list[int]:
        return sorted(range(state["players"]), key=lambda i: self._rank_key(state, i))

    def forfeit(self, state: dict, slot: int) -> dict:
        self._check_slot(state, slot)
        s = state["ships"][slot]
        if state["finished"] or not s["active"]:
            return state
        s.update(active=False, alive=False, respawn_in=0, vx=0.0, vy=0.0, **NO_CONTROLS)
        state["forfeited"].append(slot)
        state["shots"] = [shot for shot in state["shots"] if shot[4] != slot]
        state["events"].append({"e": "forfeit", "slot": slot})
        if sum(1 for o in state["ships"] if o["active"]) <= 1:
            self._finish(state, "forfeit")
        return state

    # -- outcome and views

    def result(self, state: dict) -> dict:
        scores = [s["kills"] for s in state["ships"]]
        ranking = self._ranking(state)
        winner = state["winner"] if state["finished"] else None
        summary = "\u2013".join(str(scores[i]) for i in ranking)
        if state["finished"] and winner is None:
            summary += " (draw)"
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
        hz = self.tick_hz
        w, h = world_of(state)
        return {
            "tick": state["tick"],
            "w": w,
            "h": h,
            "ship_r": SHIP_R,
            "shot_r": SHOT_R,
            "max_hp": state["settings"]["hp"],
            "ticks_left": max(0, state["end_tick"] - state["tick"]),
            "ships": [
                {
                    "x": r1(s["x"]),
                    "y": r1(s["y"]),
                    "vx": r1(s["vx"] * hz),
                    "vy": r1(s["vy"] * hz),
                    "a": round(s["a"], 2) + 0.0,
                    "hp": s["hp"],
                    "alive": s["alive"],
                    "active": s["active"],
                    "inv": s["inv"],
                    "respawn_in": s["respawn_in"],
                    "thrust": s["thrust"] and s["alive"],
                    "kills": s["kills"],
                    "deaths": s["deaths"],
                }
                for s in state["ships"]
            ],
            "shots": [
                [r1(x), r1(y), r1(vx * hz), r1(vy * hz), owner]
                for x, y, vx, vy, owner, *_ in state["shots"]
            ],
            "scores": [s["kills"] for s in state["ships"]],
            "finished": state["finished"],
            "winner": state["winner"],
            "events": list(state["events"]),
        }
