"""Zombie Siege: 1-4 players together against waves of zombies on a tile map with walls.

Positions are in tiles (floats; tile (i, j) covers [i, i+1) x [j, j+1)), origin top-left,
y grows downwards, angles in radians from +x towards +y. Zombies are lists
``[id, x, y, hp, cd]``, pickups ``[kind, x, y]`` (kind 0 ammo, 1 health). Each tick the
zombies follow one flow field, a breadth-first search over the tiles from every standing
player, shared by all of them (no path search per zombie).
"""

from __future__ import annotations

import math
from typing import Any

from .. import rng
from ..base import Field, InputError, Title, check_bool, check_float, check_int, check_object
from .grid import CLEAR, FAR, flow_field, ray, slide
from .maps import MAPS, NAMES

TICK_HZ = 20
PLAYER_SPEED = 0.2  # tiles per tick (4 tiles/s)
DIAG = 0.7071067811865476  # a diagonal move is as fast as a straight one
ZOMBIE_SPEED = (0.07, 0.09, 0.11)  # tiles per tick, by difficulty 1-3
ZOMBIE_DAMAGE = (8, 12, 18)  # health per bite, by difficulty
WAVE_FACTOR = (0.75, 1.0, 1.5)  # zombies per wave, by difficulty
BITE_REACH = 0.7  # centre to centre
BITE_COOLDOWN = 20  # ticks between two bites of a zombie (1 s)
HP = 100
REVIVED_HP = 50
AMMO_START = 60
AMMO_MAX = 150
FIRE_COOLDOWN = 4  # ticks between shots (5 a second)
RANGE = 14.0  # tiles a shot reaches
HIT_R = 0.35  # a shot passing this close to a zombie's centre hits it
REVIVE_REACH = 1.0
REVIVE_TICKS = 60  # a teammate standing by for 3 s
FIRST_WAVE_IN = 60  # ticks before wave 1
WAVE_BREAK = 100  # ticks between waves
SPAWN_EVERY = 4  # ticks between two spawns (each spawn point in turn)
PICKUP_REACH = 0.6
AMMO_PICKUP = 30
HEALTH_PICKUP = 35
DROP_AMMO = 0.10  # chance a killed zombie drops ammo
DROP_HEALTH = 0.04  # ... or health
MAX_PICKUPS = 16
TAU = 2.0 * math.pi
_HIT_R2 = HIT_R * HIT_R
_BITE2 = BITE_REACH * BITE_REACH

NO_CONTROLS = {"mx": 0, "my": 0, "fire": False}


def r1(x: float) -> float:
    """``round(x, 1) + 0.0``, at a third of its cost (the snapshot rounds every zombie): ``k``,
    the nearest integer to ``10 x`` as a double, is the exact ``10 x``'s too unless ``10 x``
    is within a hair of a half (then round itself decides), and ``k / 10`` is the double
    nearest to that decimal, which is what round returns."""
    y = x * 10.0
    k = round(y)
    if -0.4999 < y - k < 0.4999:
        return k / 10
    return round(x, 1) + 0.0


def wrap(a: float) -> float:
    """An angle in ``[-pi, pi)``."""
    return a if -math.pi <= a < math.pi else (a + math.pi) % TAU - math.pi


def tile_map(state: dict):
    return MAPS[state["settings"]["map"]]


def wave_size(wave: int, players: int, difficulty: int) -> int:
    """Zombies in wave ``wave``: more each wave, more with more players."""
    return round((4 + 4 * wave) * (1 + 0.5 * (players - 1)) * WAVE_FACTOR[difficulty - 1])


def zombie_hp(wave: int) -> int:
    return 1 + (wave + 1) // 3


class ZombieSiege(Title):
    name = "zombie"
    label = "Zombie Siege"
    version = 1
    tick_hz = TICK_HZ
    min_players = 1
    max_players = 4
    default_max_players = 4
    pauses_on_disconnect = False
    cooperative = True
    blurb = "Up to four players together against growing waves of zombies in the office."
    help = (
        "WASD or the arrows move, the mouse aims, click or Space shoots (walls stop shots). "
        "Walk over ammo and health boxes. Stand by a downed teammate for 3 s to revive them. "
        "The match ends when everyone is down or the last wave is cleared."
    )

    def extra_fields(self) -> list[Field]:
        return [
            Field("map", "int", 0, "Map", 0, len(MAPS) - 1,
                  help=", ".join(f"{i}: {n}" for i, n in enumerate(NAMES))),
            Field("difficulty", "int", 2, "Difficulty", 1, 3,
                  help="1 easy, 2 normal, 3 hard: zombie speed, bite and numbers."),
            Field("waves", "int", 8, "Waves", 1, 30, help="The match is won after this wave."),
            Field("horde", "int", 120, "Zombies at once", 10, 200,
                  help="Spawning waits while this many zombies are up."),
        ]  # fmt: skip

    # -- setup

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        state = self.common_state(players=players, seed=seed, settings=settings)
        tm = MAPS[state["settings"]["map"]]
        starts = tm.starts
        state.update(
            bot_seed=rng.hash_u64(seed, 0x20B1E),
            wave=0,
            to_spawn=0,
            next_wave_in=FIRST_WAVE_IN,
            spawn_cd=0,
            spawn_i=0,
            zid=0,
            zombies=[],
            pickups=[],
        )
        state["team"] = [
            {"x": starts[i % len(starts)][0] + 0.5, "y": starts[i % len(starts)][1] + 0.5,
             "a": 0.0, "hp": HP, "ammo": AMMO_START, "down": False, "revive": 0, "kills": 0,
             "active": True, "cd": 0, **NO_CONTROLS}
            for i in range(players)
        ]  # fmt: skip
        self._restock(state, tm)
        return state

    # -- inputs

    def validate_input(self, payload: Any) -> dict:
        check_object(payload, ("mx", "my", "aim", "fire"), InputError, "input")
        out = dict(NO_CONTROLS)
        if "mx" in payload:
            out["mx"] = check_int(payload["mx"], "mx", -1, 1, InputError)
        if "my" in payload:
            out["my"] = check_int(payload["my"], "my", -1, 1, InputError)
        if "fire" in payload:
            out["fire"] = check_bool(payload["fire"], "fire", InputError)
        if payload.get("aim") is not None:
            a = check_float(payload["aim"], "aim", -TAU, TAU, InputError)
            out["aim"] = wrap(a)
        return out

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        self._check_slot(state, slot)
        p = state["team"][slot]
        if state["finished"] or not p["active"]:
            return state
        p["mx"], p["my"], p["fire"] = inp["mx"], inp["my"], inp["fire"]
        if inp.get("aim") is not None:
            p["a"] = inp["aim"]
        return state

    # -- simulation

    def step(self, state: dict) -> dict:
        if state["finished"]:
            return state
        state["tick"] += 1
        state["events"] = []
        tm = tile_map(state)
        solid, w = tm.solid, tm.w
        team = state["team"]
        up = [p for p in team if p["active"] and not p["down"]]
        for i, p in enumerate(team):
            if not p["active"] or p["down"]:
                continue
            mx, my = p["mx"], p["my"]
            if mx or my:
                speed = PLAYER_SPEED * DIAG if mx and my else PLAYER_SPEED
                p["x"], p["y"] = slide(solid, w, p["x"], p["y"], mx * speed, my * speed)
            if p["cd"] > 0:
                p["cd"] -= 1
            if p["fire"] and p["cd"] == 0 and p["ammo"] > 0:
                self._shoot(state, tm, i, p)
        self._pick_up(state)
        self._zombies(state, tm, up)
        self._revive(state, team)
        self._waves(state, tm)
        if not any(p["active"] and not p["down"] for p in team):
            self._finish(state, "all_down")
        elif state["wave"] >= state["settings"]["waves"] and not (
            state["to_spawn"] or state["zombies"]
        ):
            self._finish(state, "waves_cleared")
        return state

    def _shoot(self, state: dict, tm, i: int, p: dict) -> None:
        p["cd"] = FIRE_COOLDOWN
        p["ammo"] -= 1
        x, y, a = p["x"], p["y"], p["a"]
        ca, sa = math.cos(a), math.sin(a)
        reach = ray(tm.solid, tm.w, x, y, ca, sa, RANGE)
        hit, first = None, reach
        for z in state["zombies"]:
            dx, dy = z[1] - x, z[2] - y
            t = dx * ca + dy * sa
            if 0.0 < t < first and dx * dx + dy * dy - t * t <= _HIT_R2:
                hit, first = z, t
        state["events"].append({"e": "fire", "slot": i, "x": round(x + ca * first, 1) + 0.0,
                                "y": round(y + sa * first, 1) + 0.0})  # fmt: skip
        if hit is None:
            return
        hit[3] -= 1
        if hit[3] > 0:
            return
        state["zombies"].remove(hit)
        p["kills"] += 1
        state["events"].append({"e": "kill", "slot": i, "zombie": hit[0]})
        roll = rng.draw_uniform(state, 0.0, 1.0)
        if len(state["pickups"]) < MAX_PICKUPS and roll < DROP_AMMO + DROP_HEALTH:
            kind = 0 if roll < DROP_AMMO else 1
            state["pickups"].append([kind, round(hit[1], 1) + 0.0, round(hit[2], 1) + 0.0])

    def _pick_up(self, state: dict) -> None:
        kept = []
        for pick in state["pickups"]:
            kind, x, y = pick
            taker = None
            for i, p in enumerate(state["team"]):
                wants = p["ammo"] < AMMO_MAX if kind == 0 else p["hp"] < HP
                if (wants and p["active"] and not p["down"] and abs(p["x"] - x) < PICKUP_REACH
                        and abs(p["y"] - y) < PICKUP_REACH):  # fmt: skip
                    taker = i
                    break
            if taker is None:
                kept.append(pick)
                continue
            p = state["team"][taker]
            if kind == 0:
                p["ammo"] = min(AMMO_MAX, p["ammo"] + AMMO_PICKUP)
            else:
                p["hp"] = min(HP, p["hp"] + HEALTH_PICKUP)
            state["events"].append({"e": "pickup", "slot": taker, "kind": kind})
        state["pickups"] = kept

    def _zombies(self, state: dict, tm, up: list) -> None:
        zombies = state["zombies"]
        if not zombies or not up:
            return
        solid, w = tm.solid, tm.w
        clear = CLEAR[state["settings"]["map"]]
        flow = flow_field(state["settings"]["map"], [int(p["y"]) * w + int(p["x"]) for p in up])
        plan, plan_step = flow.plan, flow.step  # tile -> (steps to a player, next tile's centre)
        difficulty = state["settings"]["difficulty"]
        speed = ZOMBIE_SPEED[difficulty - 1]
        damage = ZOMBIE_DAMAGE[difficulty - 1]
        events = state["events"]
        sqrt = math.sqrt
        spots = [(p["x"], p["y"], p) for p in up]
        for z in zombies:
            x, y = z[1], z[2]
            t = int(y) * w + int(x)
            d, gx, gy = plan.get(t) or plan_step(t)
            if d == FAR:
                continue  # no way to a player from here
            if d <= 1:  # beside a player: straight at the nearest one
                if z[4] > 0:
                    # Cooling down (most of a horde at the team): only whether a player is
                    # within reach matters, not which is nearest.
                    for px, py, _ in spots:
                        if (px - x) * (px - x) + (py - y) * (py - y) <= _BITE2:
                            break
                    else:
                        px = None
                    if px is not None:
                        z[4] -= 1
                        continue
                near = 1e18
                for px, py, p in spots:
                    e = (px - x) * (px - x) + (py - y) * (py - y)
                    if e < near:
                        near, gx, gy, target = e, px, py, p
                if near <= _BITE2:
                    if z[4] > 0:
                        z[4] -= 1
                        continue
                    z[4] = BITE_COOLDOWN - 1  # ticks to wait: it bites again on the 20th
                    target["hp"] -= damage
                    if target["hp"] <= 0:
                        target.update(hp=0, down=True, revive=0, fire=False)
                        slot = next(i for i, p in enumerate(state["team"]) if p is target)
                        events.append({"e": "down", "slot": slot})
                        spots = [s for s in spots if s[2] is not target]
                        if not spots:
                            return
                    continue
            dx, dy = gx - x, gy - y
            n = sqrt(dx * dx + dy * dy)
            if z[4] > 0:
                z[4] -= 1
            k = speed / n if n > speed else 1.0
            if clear[t]:  # no wall within reach: what slide would do, without its tests
                z[1], z[2] = x + dx * k, y + dy * k
            else:
                z[1], z[2] = slide(solid, w, x, y, dx * k, dy * k)

    def _revive(self, state: dict, team: list) -> None:
        for i, p in enumerate(team):
            if not p["down"] or not p["active"]:
                continue
            helper = next(
                (j for j, q in enumerate(team)
                 if j != i and q["active"] and not q["down"] and not q["fire"]
                 and (q["x"] - p["x"]) ** 2 + (q["y"] - p["y"]) ** 2 <= REVIVE_REACH**2),
                None,
            )  # fmt: skip
            if helper is None:
                p["revive"] = 0
                continue
            p["revive"] += 1
            if p["revive"] >= REVIVE_TICKS:
                p.update(down=False, hp=REVIVED_HP, revive=0)
                state["events"].append({"e": "revive", "slot": i, "by": helper})

    def _waves(self, state: dict, tm) -> None:
        settings = state["settings"]
        if state["next_wave_in"] > 0:
            state["next_wave_in"] -= 1
            if state["next_wave_in"] == 0:
                state["wave"] += 1
                state["to_spawn"] = wave_size(state["wave"], state["players"],
                                              settings["difficulty"])  # fmt: skip
                state["spawn_cd"] = 0
                self._restock(state, tm)
                state["events"].append({"e": "wave", "wave": state["wave"]})
            return
        if state["to_spawn"] > 0:
            if state["spawn_cd"] > 0:
                state["spawn_cd"] -= 1
            elif len(state["zombies"]) < settings["horde"]:
                sx, sy = tm.spawns[state["spawn_i"] % len(tm.spawns)]
                state["spawn_i"] += 1
                state["zid"] += 1
                jx = rng.draw_uniform(state, -0.2, 0.2)
                jy = rng.draw_uniform(state, -0.2, 0.2)
                state["zombies"].append([state["zid"], sx + 0.5 + jx, sy + 0.5 + jy,
                                         zombie_hp(state["wave"]), 0])  # fmt: skip
                state["to_spawn"] -= 1
                state["spawn_cd"] = SPAWN_EVERY // len(tm.spawns)
        elif not state["zombies"] and state["wave"] < settings["waves"]:
            state["next_wave_in"] = WAVE_BREAK

    @staticmethod
    def _restock(state: dict, tm) -> None:
        """The map's ammo and health spots get a box each, unless one lies there."""
        have = {(kind, x, y) for kind, x, y in state["pickups"]}
        for kind, spots in ((0, tm.ammo), (1, tm.health)):
            for sx, sy in spots:
                if (kind, sx + 0.5, sy + 0.5) not in have:
                    state["pickups"].append([kind, sx + 0.5, sy + 0.5])

    def _finish(self, state: dict, reason: str) -> None:
        state["finished"] = True
        state["reason"] = reason
        for p in state["team"]:
            p.update(NO_CONTROLS)

    def forfeit(self, state: dict, slot: int) -> dict:
        self._check_slot(state, slot)
        p = state["team"][slot]
        if state["finished"] or not p["active"]:
            return state
        p.update(active=False, down=False, revive=0, **NO_CONTROLS)
        state["forfeited"].append(slot)
        state["events"].append({"e": "forfeit", "slot": slot})
        if not any(q["active"] for q in state["team"]):
            self._finish(state, "forfeit")
        elif not any(q["active"] and not q["down"] for q in state["team"]):
            self._finish(state, "all_down")
        return state

    # -- outcome and views

    @staticmethod
    def _ranking(state: dict) -> list[int]:
        team = state["team"]
        return sorted(range(len(team)), key=lambda i: (not team[i]["active"], -team[i]["kills"], i))

    def result(self, state: dict) -> dict:
        scores = [p["kills"] for p in state["team"]]
        ranking = self._ranking(state)
        summary = f"wave {state['wave']}/{state['settings']['waves']}, kills " + "\u2013".join(
            str(scores[i]) for i in ranking
        )
        return {
            "scores": scores,
            "winner": None,  # co-op: the team wins or loses together
            "ranking": ranking,
            "summary": summary,
            "finished": state["finished"],
            "reason": state["reason"],
            "forfeited": list(state["forfeited"]),
        }

    def snapshot(self, state: dict) -> dict:
        tm = tile_map(state)
        settings = state["settings"]
        return {
            "tick": state["tick"],
            "map": tm.name,
            "w": tm.w,
            "h": tm.h,
            "tiles": list(tm.rows),
            "waves": settings["waves"],
            "wave": state["wave"],
            "to_spawn": state["to_spawn"],
            "next_wave_in": state["next_wave_in"],
            "team": [
                {
                    "x": round(p["x"], 2) + 0.0,
                    "y": round(p["y"], 2) + 0.0,
                    "a": round(p["a"], 2) + 0.0,
                    "mx": p["mx"],
                    "my": p["my"],
                    "hp": p["hp"],
                    "ammo": p["ammo"],
                    "down": p["down"],
                    "revive": p["revive"],
                    "active": p["active"],
                    "kills": p["kills"],
                }
                for p in state["team"]
            ],
            "zombies": [[z[0], r1(z[1]), r1(z[2])] for z in state["zombies"]],
            "pickups": [[k, x, y] for k, x, y in state["pickups"]],
            "scores": [p["kills"] for p in state["team"]],
            "finished": state["finished"],
            "winner": None,
            "events": list(state["events"]),
        }
