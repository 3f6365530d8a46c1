"""Where each registered title's browser module is served: its package's ``browser/`` folder
appears among the static files under ``titles/<name>/`` (``frontend.finders.TitleFinder``),
and ``index.js`` there is the module the match page and the replay viewer import."""

from pathlib import Path

from django.templatetags.static import static

from matches.titles import TITLES, title_package

ENTRY = "index.js"


def browser_dirs() -> dict[str, Path]:
    """``{"titles/<name>": its browser folder}`` for every registered title that has one."""
    out = {}
    for name in TITLES:
        folder = Path(title_package(name).__file__).parent / "browser"
        if folder.is_dir():
            out[f"titles/{name}"] = folder
    return out


def module_url(name: str) -> str:
    """The URL of title ``name``'s browser module (hashed by the manifest storage)."""
    return static(f"titles/{name}/{ENTRY}")
