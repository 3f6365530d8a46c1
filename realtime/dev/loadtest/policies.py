"""How a load-test client plays each title: the ``loadtest`` module of the title's package
(``POLICY``, a matches.titles.base.LoadPolicy, and ``LONG_MATCH`` settings)."""

from types import ModuleType

from matches.titles import TITLES, LoadPolicy, title_part


def _module(title: str) -> ModuleType:
    module = title_part(title, "loadtest") if title in TITLES else None
    if module is None:
        raise LookupError(f"{title!r} has no load-test policy (a loadtest.py in its package)")
    return module


def playable() -> list[str]:
    """The registered titles a load test can play, in the setting's order."""
    return [name for name in TITLES if title_part(name, "loadtest") is not None]


def policy(title: str) -> LoadPolicy:
    return _module(title).POLICY


def long_match(title: str) -> dict:
    """Settings for matches that outlast a measurement (e.g. Pong to 21)."""
    return dict(getattr(_module(title), "LONG_MATCH", {}))
