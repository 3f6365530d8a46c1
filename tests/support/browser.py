"""Real headless Chromium for the front-end tests, through Playwright's sync API.

The machine has no network beyond package registries, so Playwright's own browser download
is not an option: we drive Debian's ``chromium`` (``make browser`` installs it).
"""

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# A test run writes its pictures under var/; UPDATE_SCREENSHOTS=1 refreshes the README's.
_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = _ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "var") / "screenshots"


def available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


class Chromium:
    """One browser process; each ``page()`` is a fresh context (its own cookies: a person)."""

    def __init__(self, origin: str) -> None:
        # Never skipped: a browser test without a browser fails, saying how to get one.
        if not available():
            raise RuntimeError(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
        self.origin = origin
        self._pw = sync_playwright().start()
        self.browser: Browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        self.contexts = []
        self.console: list[str] = []

    def page(self, *, width: int = 1100, height: int = 760, **options) -> Page:
        context = self.browser.new_context(
            base_url=self.origin, viewport={"width": width, "height": height}, **options
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Script errors fail the test at the end; they are easy to miss otherwise.
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc} {exc.stack}"))
        page.on(
            "console",
            lambda msg: (
                self.console.append(f"{msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.browser.close()
        self._pw.stop()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path
