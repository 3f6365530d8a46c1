"""Pure-Python game rules: the titles the match engine can run.

Nothing in this package touches Django, I/O, the clock or global randomness;
see ``docs/games.md`` for the interface and the rules of each title.
"""

from __future__ import annotations

from .arena import TITLE as ARENA
from .base import GameError, InputError, SettingsError, Title
from .pong import TITLE as PONG
from .snake import TITLE as SNAKE

TITLES: dict[str, Title] = {t.name: t for t in (PONG, SNAKE, ARENA)}


def get_title(name: str) -> Title:
    """The title registered under ``name``; ``GameError(code="unknown_title")`` otherwise."""
    title = TITLES.get(name) if isinstance(name, str) else None
    if title is None:
        raise GameError(f"unknown title {name!r}", code="unknown_title")
    return title


__all__ = ["TITLES", "GameError", "InputError", "SettingsError", "Title", "get_title"]
