"""The game titles the match engine can run, discovered from the ``ARCADE_TITLES`` setting.

Each entry of the setting is the dotted path of a title package (like INSTALLED_APPS) whose
``__init__`` exposes ``TITLE``, an instance of ``base.Title``; its folder may also hold
``loadtest.py`` and ``browser/`` (see docs/titles.md). The rules themselves touch no Django,
I/O, clock or global randomness; only this registry reads a setting.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from types import ModuleType

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import BenchCase, GameError, InputError, LoadPolicy, SettingsError, Title


class Registry(Mapping[str, Title]):
    """The titles of the setting by name, read afresh on each access (so that a test's
    ``override_settings(ARCADE_TITLES=...)`` takes effect at once); loading is cached."""

    def __getitem__(self, name: str) -> Title:
        return _load(tuple(settings.ARCADE_TITLES))[name][0]

    def __iter__(self) -> Iterator[str]:
        return iter(_load(tuple(settings.ARCADE_TITLES)))

    def __len__(self) -> int:
        return len(_load(tuple(settings.ARCADE_TITLES)))


TITLES = Registry()


def get_title(name: str) -> Title:
    """The title registered under ``name``; ``GameError(code="unknown_title")`` otherwise."""
    title = TITLES.get(name) if isinstance(name, str) else None
    if title is None:
        raise GameError(f"unknown title {name!r}", code="unknown_title")
    return title


def title_package(name: str) -> ModuleType:
    """The package of the registered title ``name`` (its folder holds browser/, loadtest.py)."""
    get_title(name)
    return _load(tuple(settings.ARCADE_TITLES))[name][1]


def title_part(name: str, part: str) -> ModuleType | None:
    """The submodule ``part`` of title ``name``'s package (e.g. "loadtest"), None if it has
    none; an error inside an existing one is raised as it is."""
    package = title_package(name)
    module = f"{package.__name__}.{part}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> dict[str, tuple[Title, ModuleType]]:
    found: dict[str, tuple[Title, ModuleType]] = {}
    for path in paths:
        try:
            package = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if path != missing and not path.startswith(f"{missing}."):
                raise  # the package exists but something it imports does not
            raise ImproperlyConfigured(f"ARCADE_TITLES: no title package {path!r}") from exc
        title = getattr(package, "TITLE", None)
        if not isinstance(title, Title):
            raise ImproperlyConfigured(
                f"ARCADE_TITLES: {path!r} has no TITLE (an instance of matches.titles.base.Title)"
            )
        if not title.name:
            raise ImproperlyConfigured(f"ARCADE_TITLES: the TITLE of {path!r} has no name")
        if title.name in found:
            other = found[title.name][1].__name__
            raise ImproperlyConfigured(
                f"ARCADE_TITLES: {path!r} and {other!r} both name their title {title.name!r}"
            )
        found[title.name] = (title, package)
    return found


__all__ = [
    "TITLES",
    "BenchCase",
    "GameError",
    "InputError",
    "LoadPolicy",
    "SettingsError",
    "Title",
    "get_title",
    "title_package",
    "title_part",
]
