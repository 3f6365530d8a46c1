"""The admin's live view in a real browser: live.js draws the sparklines of a match a real
tick worker runs into the page's inline SVGs, fetching nothing from another origin. The
sparklines go to docs/screenshots/admin-live.png."""

import os

from django.test import TransactionTestCase
from django.urls import reverse

from realtime import store
from realtime.engine import supervisor
from tests.support import browser as chromium
from tests.support import stack
from tests.support.matches import counting_down
from tests.support.staff import controller


class LiveViewBrowserTests(TransactionTestCase):
    def setUp(self):
        # Playwright's sync API runs an event loop in this thread; the ORM calls are ours.
        self._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self.addCleanup(self._restore_async_unsafe)
        stack.flush_redis()
        worker = stack.tick_worker("ticks-admin-browser")
        self.addCleanup(worker.stop)
        self.daphne = stack.daphne("daphne-admin-browser")
        self.addCleanup(self.daphne.stop)
        stack.wait_ready(worker)
        self.chromium = chromium.Chromium(self.daphne.origin)
        self.addCleanup(self.chromium.close)

    def _restore_async_unsafe(self):
        if self._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def test_the_sparklines_are_drawn_from_the_runner_s_history(self):
        match = counting_down()
        supervisor.begin(match.pk)
        stack.wait_for(lambda: len(store.load_spark(match.pk)) >= 3, timeout=10,
                       what="three sparkline samples")  # fmt: skip
        staff = controller()
        page = self.chromium.page()
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto("/admin/login/")
        page.fill("#id_username", staff.username)
        page.fill("#id_password", "pw-123-xyz")
        page.click("input[type=submit]")
        page.goto(reverse("admin:matches_match_change", args=[match.pk]))
        # Every series drawn with one point per sample, the latest value beside it.
        page.wait_for_function("""() => [...document.querySelectorAll('.live-spark')].every(f =>
            f.querySelector('polyline').getAttribute('points').split(' ').length >= 3
            && f.querySelector('.spark-now').textContent !== '—')""")  # fmt: skip
        drawn = page.eval_on_selector_all(".live-spark", """figures => figures.map(f => ({
            series: f.dataset.series,
            points: f.querySelector('polyline').getAttribute('points').split(' ')
                .map(p => p.split(',').map(Number)),
            now: f.querySelector('.spark-now').textContent}))""")  # fmt: skip
        self.assertEqual([d["series"] for d in drawn], ["tick_ms", "jitter_ms", "sockets"])
        for figure in drawn:
            xs = [x for x, _ in figure["points"]]
            self.assertEqual(xs, sorted(xs), figure)  # oldest on the left
            self.assertTrue(all(0 <= x <= 240 and 0 <= y <= 48 for x, y in figure["points"]))
        self.assertTrue(drawn[0]["now"].endswith(" ms"), drawn[0])
        # docs/operations.md shows it, as README.md shows the players' pages.
        page.locator("#live-sparks").screenshot(path=str(chromium.SCREENSHOTS / "admin-live.png"))
        foreign = [url for url in requested if not url.startswith(self.daphne.origin)]
        self.assertEqual(foreign, [])
        errors = [line for line in self.chromium.console if line.startswith("pageerror")]
        self.assertEqual(errors, [])
