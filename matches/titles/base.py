"""The interface every game title implements, plus shared validation helpers.

A *title* is the singleton ``TITLE`` of a title package (``matches.titles.pong``...), an
instance of a ``Title`` subclass.  It holds no per-match data: a match is entirely described by its
*state*, a plain JSON-serializable dict (dict/list/str/int/float/bool/None
only) that the engine stores, and every method is a function of its arguments.
No I/O, no clock, no global randomness: the same seed and the same inputs give
the same states, tick for tick, across JSON round trips of the state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import rng


class GameError(Exception):
    """An error a client or the engine can be told about.

    ``code`` is a stable machine-readable string, ``reason`` a human-readable
    sentence, ``field`` (optional) names the offending setting or input key.
    """

    code: str = "game_error"

    def __init__(self, reason: str = "", *, code: str | None = None, field: str | None = None):
        super().__init__(reason)
        self.code = code if code is not None else type(self).code
        self.reason = reason
        self.field = field

    def __str__(self) -> str:
        return self.reason

    def as_dict(self) -> dict:
        out = {"code": self.code, "reason": self.reason}
        if self.field is not None:
            out["field"] = self.field
        return out


class SettingsError(GameError):
    code = "bad_settings"


class InputError(GameError):
    code = "bad_input"


# --- value checks shared by settings and input validation ----------------------


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_int(value: Any, name: str, lo: int, hi: int, exc: type[GameError]) -> int:
    if not is_int(value):
        raise exc(f"{name} must be an integer, got {_kind(value)}", field=name)
    if not lo <= value <= hi:
        raise exc(f"{name} must be between {lo} and {hi}, got {value}", field=name)
    return int(value)


def check_float(value: Any, name: str, lo: float, hi: float, exc: type[GameError]) -> float:
    if not is_number(value):
        raise exc(f"{name} must be a number, got {_kind(value)}", field=name)
    try:
        value = float(value)
    except OverflowError:  # an integer past the float range (JSON has no limit)
        raise exc(f"{name} must be a finite number", field=name) from None
    if not math.isfinite(value):
        raise exc(f"{name} must be a finite number", field=name)
    if not lo <= value <= hi:
        raise exc(f"{name} must be between {lo:g} and {hi:g}, got {value:g}", field=name)
    return value


def check_bool(value: Any, name: str, exc: type[GameError]) -> bool:
    if not isinstance(value, bool):
        raise exc(f"{name} must be true or false, got {_kind(value)}", field=name)
    return value


def check_object(
    payload: Any,
    allowed: tuple[str, ...],
    exc: type[GameError],
    what: str,
    required: tuple[str, ...] = (),
) -> dict:
    """``payload`` must be a dict whose keys are all in ``allowed``."""
    if not isinstance(payload, dict):
        raise exc(f"{what} must be an object, got {_kind(payload)}")
    for key in payload:
        if key not in allowed:
            raise exc(
                f"unknown {what} key {key!r} (allowed: {', '.join(allowed)})",
                field=key if isinstance(key, str) else None,
            )
    for key in required:
        if key not in payload:
            raise exc(f"{what} is missing {key!r}", field=key)
    return payload


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number" if math.isfinite(value) else "a non-finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- settings -----------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One setting: ``type`` is "int", "float" or "bool"."""

    name: str
    type: str
    default: Any
    label: str
    min: float | None = None
    max: float | None = None
    help: str = ""
    unit: str = ""

    def check(self, value: Any) -> Any:
        if self.type == "int":
            return check_int(value, self.name, int(self.min), int(self.max), SettingsError)
        if self.type == "float":
            return check_float(value, self.name, self.min, self.max, SettingsError)
        return check_bool(value, self.name, SettingsError)

    def describe(self) -> dict:
        out = {"type": self.type, "default": self.default, "label": self.label}
        if self.type != "bool":
            out["min"] = self.min
            out["max"] = self.max
        if self.unit:
            out["unit"] = self.unit
        if self.help:
            out["help"] = self.help
        return out


# --- the title interface ----------------------------------------------------------


class Title:
    """Base class of the game titles; subclasses implement the rules."""

    name: str = ""
    label: str = ""
    version: int = 1
    tick_hz: int = 30
    min_players: int = 2
    max_players: int = 2
    default_max_players: int = 2
    pauses_on_disconnect: bool = False
    # The players win or lose together: a result never names a winner, forfeits included.
    cooperative: bool = False
    # How finished matches move ratings (matches/ratings.py): "openskill", made for many-player
    # rankings, or "elo", for duels.
    rating_system: str = "openskill"
    # Presentation: the lobby card's line and the match page's help text (plain text).
    blurb: str = ""
    help: str = ""

    # -- settings

    def extra_fields(self) -> list[Field]:
        """Title-specific settings (after ``max_players``)."""
        return []

    def settings_fields(self) -> list[Field]:
        return [
            Field(
                "max_players",
                "int",
                self.default_max_players,
                "Max players",
                self.min_players,
                self.max_players,
                help="Number of seats in the match.",
            ),
            *self.extra_fields(),
        ]

    def settings_schema(self) -> dict:
        """``{field: {type, default, label, min, max[, unit, help]}}`` in form order."""
        return {f.name: f.describe() for f in self.settings_fields()}

    def validate_settings(self, raw: dict | None) -> dict:
        """Return complete settings (defaults filled in) or raise ``SettingsError``."""
        if raw is None:
            raw = {}
        fields = self.settings_fields()
        check_object(raw, tuple(f.name for f in fields), SettingsError, "settings")
        return {f.name: f.check(raw[f.name]) if f.name in raw else f.default for f in fields}

    def describe(self) -> dict:
        """Static facts about the title, for lobbies and front ends."""
        return {
            "name": self.name,
            "label": self.label,
            "version": self.version,
            "tick_hz": self.tick_hz,
            "min_players": self.min_players,
            "max_players": self.max_players,
            "pauses_on_disconnect": self.pauses_on_disconnect,
            "rating_system": self.rating_system,
            "blurb": self.blurb,
            "settings": self.settings_schema(),
        }

    def _prepare(self, players: int, seed: int, settings: dict) -> dict:
        """Shared checks of ``initial_state`` arguments; returns full settings."""
        settings = self.validate_settings(settings)
        if not is_int(players) or not (self.min_players <= players <= settings["max_players"]):
            raise SettingsError(
                f"players must be between {self.min_players} and {settings['max_players']}",
                field="players",
            )
        if not is_int(seed) or seed < 0:
            raise SettingsError("seed must be a non-negative integer", field="seed")
        return settings

    def common_state(self, *, players: int, seed: int, settings: dict) -> dict:
        """The keys every state has, ``settings`` checked and completed and ``rng`` seeded;
        a title adds its own keys to it in ``initial_state``."""
        settings = self._prepare(players, seed, settings)
        return {
            "title": self.name, "v": self.version, "tick": 0, "players": players,
            "settings": settings, "rng": rng.seed_state(seed, 1), "finished": False,
            "winner": None, "reason": None, "forfeited": [], "events": [],
        }  # fmt: skip

    def ticks(self, seconds: float) -> int:
        return max(1, round(seconds * self.tick_hz))

    @staticmethod
    def _check_slot(state: dict, slot: int) -> None:
        if not is_int(slot) or not 0 <= slot < state["players"]:
            raise InputError(f"no such slot {slot!r}", field="slot")

    # -- the rules (implemented by each title)

    def initial_state(self, *, players: int, seed: int, settings: dict) -> dict:
        raise NotImplementedError

    def validate_input(self, payload: Any) -> dict:
        raise NotImplementedError

    def apply_input(self, state: dict, slot: int, inp: dict) -> dict:
        raise NotImplementedError

    def apply_late_input(self, state: dict, slot: int, inp: dict, late: int) -> dict:
        """An input the runner applies ``late`` ticks after the tick it asked for (its ``at``,
        docs/protocol.md; ``late`` ≥ 1, already bounded by the runner). A title whose own
        object can be moved as if the input had been applied then (Pong's paddle) catches it
        up here, touching nothing but the player's own object; by default, and where a late
        change cannot be rewritten without changing what others saw (a Snake turn, an Arena
        ship's thrust and shots), it is applied now like any input."""
        return self.apply_input(state, slot, inp)

    def step(self, state: dict) -> dict:
        raise NotImplementedError

    def is_finished(self, state: dict) -> bool:
        return bool(state["finished"])

    def result(self, state: dict) -> dict:
        raise NotImplementedError

    def snapshot(self, state: dict) -> dict:
        raise NotImplementedError

    # The bot: ``decide(state, slot)``, a function of the title's ``bot.py`` that the package
    # hands over (``TITLE = rules.Pong(bot=bot.decide)``), so that the rules never import it.
    bot = None
    # The compact encoding's schema of ``snapshot()`` (matches/titles/wire.py), from the title's
    # ``wire.py`` like the bot; None: its sockets get v1 JSON only.
    wire_schema: dict | None = None

    def __init__(self, *, bot=None, wire_schema: dict | None = None) -> None:
        if bot is not None:
            self.bot = bot
        if wire_schema is not None:
            self.wire_schema = wire_schema

    def bot_input(self, state: dict, slot: int) -> dict | None:
        """The bot's input for ``slot`` (already valid), or None to send nothing."""
        if self.bot is None:
            raise NotImplementedError(f"{self.name} has no bot")
        return self.bot(state, slot)

    def forfeit(self, state: dict, slot: int) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Title {self.name} v{self.version}>"


class LoadPolicy:
    """How a load-test client plays a title (its package's ``loadtest.POLICY``): what it sends
    given the last snapshot, and how it tells that a snapshot reflects an input. ``rng`` is
    the client's own ``random.Random``, so that many clients stay out of lockstep."""

    # Held controls that change all the time (a mouse aim) are sent at the input rate.
    sends_unchanged: bool = False

    def decide(self, state: dict, slot: int, rng: Any) -> dict | None:
        """The input to send now (given the latest snapshot), or None."""
        raise NotImplementedError

    def shows(self, state: dict, slot: int, sent: dict) -> bool | None:
        """Whether the snapshot ``state`` reflects ``sent``; None when it cannot tell."""
        raise NotImplementedError

    def measured(self, sent: dict) -> Any:
        """The part of an input whose arrival ``shows`` detects."""
        raise NotImplementedError


@dataclass(frozen=True)
class BenchCase:
    """A row a title asks ``manage.py bench_games`` for beside the default one (every title
    at its max players): the package's ``bench.CASES``, so the row needs no edit outside the
    title's folder. ``players`` bots play with ``settings`` (validated like a lobby's);
    ``prepare(state)``, when given, runs before every measured tick, outside the timing
    (Zombie Siege holds its horde at 200 with it)."""

    label: str
    players: int
    settings: dict | None = None
    prepare: Callable[[dict], None] | None = None


def ranked_winner(ranking: list[int], key) -> int | None:
    """The first of ``ranking`` unless the second has the same ``key`` (a draw)."""
    if not ranking:
        return None
    if len(ranking) > 1 and key(ranking[0]) == key(ranking[1]):
        return None
    return ranking[0]


def r1(x: float) -> float:
    """Round for snapshots (1 decimal); ``+ 0.0`` turns -0.0 into 0.0."""
    return round(x, 1) + 0.0
