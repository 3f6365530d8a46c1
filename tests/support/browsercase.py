"""A browser test case on a real stack: Daphne, Redis, the tick worker, the default worker and
beat, with headless Chromium; each browser context is one person with their own session.

The pages expose what they know as ``window.__game`` and ``window.__lobby``; the helpers read
them next to the DOM.
"""

import os
import re

from django.test import TransactionTestCase

from tests.support import browser as chromium
from tests.support import stack

# Fast matches (read by Daphne, where the API starts countdowns and quick play decides):
# a 1 s countdown, bots after 1 s alone in the quick-play queue, a short spectator delay.
STACK_ENV = {
    "MATCH_COUNTDOWN_S": "1",
    "QUICKPLAY_BOT_AFTER_S": "1",
    "SPECTATOR_DELAY_S": "2",  # spectators watch a little late, as in production (5 s)
}
MATCH_URL = re.compile(r"/m/([A-Za-z0-9_-]+)/$")


class BrowserCase(TransactionTestCase):
    NAME = "fe"  # the services' names: their logs under var/test-logs/
    DAPHNE_ENV = STACK_ENV

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
        # make between browser steps are plain sync code all the same.
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        stack.flush_redis()
        cls.services = []
        try:
            workers = [
                stack.tick_worker(f"ticks-{cls.NAME}"),
                stack.default_worker(f"default-{cls.NAME}"),
            ]
            cls.services += workers
            cls.services.append(stack.beat(f"beat-{cls.NAME}"))
            stack.wait_ready(*workers)
            cls.daphne = stack.daphne(f"daphne-{cls.NAME}", **cls.DAPHNE_ENV)
            cls.services.append(cls.daphne)
            cls.chromium = chromium.Chromium(cls.daphne.origin)
        except BaseException:
            cls._stop_services()
            raise

    @classmethod
    def _stop_services(cls):
        for service in reversed(cls.services):
            service.stop()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.chromium.close()
        finally:
            cls._stop_services()
            if cls._async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            super().tearDownClass()

    def setUp(self):
        self.chromium.console.clear()

    def tearDown(self):
        errors = [line for line in self.chromium.console if line.startswith("pageerror")]
        self.assertEqual(errors, [], "script errors in the page")

    # --- helpers -------------------------------------------------------------------------

    def person(self, name: str | None, **options):
        """A new browser context on the lobby, with a nickname saved if ``name``."""
        page = self.chromium.page(**options)
        self.open_lobby(page)
        if name:
            page.fill("#nick", name)
            page.click("#nick-form button[type=submit]")
            page.wait_for_function("() => window.__lobby && window.__lobby.player !== null")
            self.assertIn(name, page.text_content("#nick-status"))
        return page

    def open_lobby(self, page) -> None:
        # Before its module runs, the nickname form would submit as a plain GET.
        page.goto("/")
        page.wait_for_function("() => window.__lobby !== undefined")

    def game(self, page, expression: str):
        return page.evaluate(f"() => {{ const g = window.__game; return {expression}; }}")

    def wait_game(self, page, condition: str, timeout: float = 15):
        page.wait_for_function(
            f"() => {{ const g = window.__game; return !!(g && ({condition})); }}",
            timeout=timeout * 1000,
        )

    def public_id(self, page) -> str:
        match = MATCH_URL.search(page.url)
        self.assertIsNotNone(match, page.url)
        return match.group(1)

    def quick_play(self, page, title: str) -> str:
        page.click(f".card[data-title={title}] button.quick")
        page.wait_for_url(MATCH_URL, timeout=15_000)
        return self.public_id(page)
