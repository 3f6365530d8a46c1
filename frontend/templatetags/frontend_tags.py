"""``{% module_importmap %}``: our ES modules import each other by plain relative paths
(``./net.js``); with hashed file names in production (the manifest storage) those paths
would load the unhashed copies, which are cached only briefly and could mix versions after
a deploy. An import map sends every such path to its hashed, immutable name instead."""

import json
from pathlib import Path

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.safestring import mark_safe

from frontend.titles import browser_dirs
from matches.titles import TITLES

register = template.Library()

_STATIC = Path(__file__).resolve().parent.parent / "static"
_MODULES = sorted(p.relative_to(_STATIC).as_posix() for p in _STATIC.glob("frontend/**/*.js"))


def _title_modules() -> list[str]:
    """The registered titles' browser modules, as static paths (read on each page: a test may
    change ARCADE_TITLES)."""
    return sorted(
        f"{prefix}/{path.relative_to(folder).as_posix()}"
        for prefix, folder in browser_dirs().items()
        for path in folder.glob("**/*.js")
    )


def _plain_url(path: str) -> str:
    base = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}"
    return f"{base}{path}"


@register.simple_tag
def module_importmap() -> str:
    imports = {_plain_url(path): static(path) for path in [*_MODULES, *_title_modules()]}
    # "<" escaped so that no file name can close the script element.
    text = json.dumps({"imports": imports}, sort_keys=True).replace("<", "\\u003c")
    return mark_safe(f'<script type="importmap">{text}</script>')


@register.simple_tag
def first_title() -> str:
    """The first registered title's name (where the site's Leaderboards link leads)."""
    return next(iter(TITLES))
