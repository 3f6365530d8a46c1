"""The replay viewer in real headless Chromium, served by Daphne from the test database.

A finished Pong match with its replay is made here (tests/support/replays.py: bob wins 3 to 1
after 924 ticks); the viewer fetches its frames from the replay API in 300-tick chunks and
draws them with the live renderer. The page exposes what it shows as ``window.__replay``.
Saves docs/screenshots/replay.png (README.md shows it).
"""

import json
import os
import time

from django.test import TransactionTestCase

from tests.support import browser as chromium
from tests.support import stack
from tests.support.browsercase import BrowserCase
from tests.support.replays import finished_with_replay


class ReplayBrowserTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        cls.daphne = stack.daphne("daphne-replay")
        try:
            cls.chromium = chromium.Chromium(cls.daphne.origin)
        except BaseException:
            cls.daphne.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.chromium.close()
        finally:
            cls.daphne.stop()
            if cls._async_unsafe is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            super().tearDownClass()

    def setUp(self):
        self.chromium.console.clear()
        self.match, self.final = finished_with_replay()
        self.url = f"/m/{self.match.public_id}/replay/"

    def tearDown(self):
        errors = [line for line in self.chromium.console if line.startswith("pageerror")]
        self.assertEqual(errors, [], "script errors in the page")

    def replay(self, page, expression: str):
        return page.evaluate(f"() => {{ const r = window.__replay; return {expression}; }}")

    def wait_replay(self, page, condition: str, timeout: float = 10):
        page.wait_for_function(
            f"() => {{ const r = window.__replay; return !!(r && ({condition})); }}",
            timeout=timeout * 1000,
        )

    def canvas(self, page) -> str:
        return page.evaluate("() => document.getElementById('field').toDataURL()")

    def ticks_per_second(self, page) -> float:
        t0, start = self.replay(page, "r.t"), time.monotonic()
        time.sleep(0.6)
        return (self.replay(page, "r.t") - t0) / (time.monotonic() - start)

    def test_play_pause_step_speed_and_seek_through_a_finished_match(self):
        page = self.chromium.page()
        # From the lobby's recent results to the viewer.
        page.goto("/")
        page.click(f'#results a.replay[href="{self.url}"]')
        page.wait_for_url(f"**{self.url}")
        self.wait_replay(page, "r.tick === 0 && r.frames > 0")
        self.assertEqual(page.text_content("#play"), "Play")
        self.assertEqual(page.text_content("#tick-shown"), "0")
        self.assertIn("bob wins", page.text_content("#final"))
        self.assertIn("1\u20133", page.text_content("#final"))
        board = page.text_content("#scoreboard")
        self.assertIn("ann", board)
        self.assertIn("bob", board)
        still = self.canvas(page)
        time.sleep(0.3)
        self.assertEqual(self.replay(page, "r.t"), 0)  # nothing plays before asked to

        # Play: the tick shown advances at about 30 a second and the picture moves.
        page.click("#play")
        self.wait_replay(page, "r.playing && r.tick > 60")  # past the first serve (tick 45)
        self.assertEqual(page.text_content("#play"), "Pause")
        self.assertGreater(int(page.text_content("#tick-shown")), 50)
        self.assertNotEqual(self.canvas(page), still)
        normal = self.ticks_per_second(page)
        self.assertGreater(normal, 18)
        self.assertLess(normal, 45)
        self.wait_replay(page, "r.loaded.includes(1)")  # the next chunk, fetched ahead

        # Space pauses (the focus is on the play button: its own Space; then on the page).
        page.keyboard.press("Space")
        self.wait_replay(page, "!r.playing")
        page.locator("#seek").focus()
        page.keyboard.press("Space")
        self.wait_replay(page, "r.playing")
        page.keyboard.press("Space")
        self.wait_replay(page, "!r.playing")
        paused = self.replay(page, "r.t")
        time.sleep(0.3)
        self.assertEqual(self.replay(page, "r.t"), paused)

        # → steps one tick, ← one back, Shift + → five seconds.
        tick = self.replay(page, "Math.floor(r.t)")
        page.keyboard.press("ArrowRight")
        self.wait_replay(page, f"r.tick === {tick + 1} && !r.playing")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        self.wait_replay(page, f"r.tick === {tick - 1}")
        page.keyboard.press("Shift+ArrowRight")
        self.wait_replay(page, f"r.tick === {tick - 1 + 150}")
        self.assertEqual(page.text_content("#tick-shown"), str(tick - 1 + 150))

        # Speed 4: four times the ticks a second.
        page.click("[data-speed='4']")
        self.assertEqual(page.get_attribute("[data-speed='4']", "aria-pressed"), "true")
        self.assertEqual(page.get_attribute("[data-speed='1']", "aria-pressed"), "false")
        page.click("#play")
        self.wait_replay(page, "r.playing && r.speed === 4")
        fast = self.ticks_per_second(page)
        self.assertGreater(fast, 2.5 * normal)
        page.keyboard.press("2")  # back to normal speed
        self.wait_replay(page, "r.speed === 1")

        # Seek with the bar to a chunk not fetched yet: it is fetched and drawn.
        page.evaluate("""() => {
            const bar = document.getElementById('seek');
            bar.value = '620';
            bar.dispatchEvent(new Event('input', { bubbles: true }));
        }""")
        self.wait_replay(page, "r.tick >= 620 && r.loaded.includes(2)")
        page.keyboard.press("Space")
        self.wait_replay(page, "!r.playing")

        # End: the last frame is the final state, the result is over the field.
        page.keyboard.press("End")
        self.wait_replay(page, "r.tick === 924 && r.ended")
        self.assertEqual(self.replay(page, "r.state"), self.final)
        self.assertEqual(page.text_content("#overlay-text"), "bob wins")
        self.assertEqual(page.text_content("#overlay-detail"), "Final score 1\u20133")
        scores = page.eval_on_selector_all(
            "#scoreboard .score", "els => els.map(e => e.textContent)"
        )
        self.assertEqual(scores, ["1", "3"])
        self.assertEqual(page.text_content("#play"), "Watch again")
        self.assertEqual(page.text_content("#clock"), "0:30")

        # Watch again: from the start.
        page.click("#play")
        self.wait_replay(page, "r.playing && r.tick > 0 && r.tick < 100")
        page.locator("#overlay").wait_for(state="hidden", timeout=1000)

        # A moment mid-match for the README: paused in a rally, ann 1, bob 2.
        page.keyboard.press("Space")
        self.wait_replay(page, "!r.playing")
        moment = self.rally_tick(scores=[1, 2])
        page.evaluate(f"() => window.__replay.seek({moment})")
        self.wait_replay(page, f"r.tick === {moment}")
        chromium.screenshot(page, "replay.png")

    def rally_tick(self, *, scores: list[int]) -> int:
        """A tick of this match with ``scores`` and the ball well into a rally."""
        body = self.client.get(f"/api/matches/{self.match.public_id}/replay?count=900").json()
        frames = body["frames"]
        candidates = [
            f["tick"]
            for f in frames
            if f["scores"] == scores and f["serve_in"] == 0 and 250 < f["ball"]["x"] < 550
        ]
        self.assertTrue(candidates, "no such moment in the first 900 ticks")
        return candidates[len(candidates) // 2]

    def test_a_chunk_that_fails_to_load_is_shown_and_tried_again(self):
        page = self.chromium.page()
        failed = []
        down = [True]  # the server fails these requests until the test says otherwise

        def fail_while_down(route):
            if down[0]:
                failed.append(route.request.url)
                route.fulfill(status=503, body="down for a moment")
            else:
                route.continue_()

        page.route("**/replay?from=600*", fail_while_down)
        page.goto(self.url)
        self.wait_replay(page, "r.tick === 0")
        page.evaluate("() => window.__replay.seek(700)")
        page.wait_for_function("""() =>
            document.getElementById('overlay-text').textContent === 'Could not load the replay'
            && document.getElementById('overlay-detail').textContent.endsWith('trying again')""")
        self.assertEqual(self.replay(page, "r.tick"), 0)  # the last frame drawn stays
        down[0] = False
        self.wait_replay(page, "r.tick === 700")  # the next try, at most 2 s later
        page.locator("#overlay").wait_for(state="hidden", timeout=1000)
        self.assertGreaterEqual(len(failed), 1)

    def test_a_chunk_the_server_refuses_for_good_is_shown_and_not_tried_again(self):
        page = self.chromium.page()
        asked = []

        def gone(route):
            asked.append(route.request.url)
            body = {"error": "replay_outdated", "reason": "other rules"}
            route.fulfill(status=410, content_type="application/json", body=json.dumps(body))

        page.route("**/replay?from=600*", gone)
        page.goto(self.url)
        self.wait_replay(page, "r.tick === 0")
        page.evaluate("() => window.__replay.seek(700)")
        page.wait_for_function("""() =>
            document.getElementById('overlay-text').textContent === 'Could not load the replay'
            && document.getElementById('overlay-detail').textContent === 'other rules'""")
        time.sleep(2.5)  # past the 2 s after which a failed chunk is tried again
        self.assertEqual(len(asked), 1)

    def test_the_match_page_links_to_the_replay_and_a_phone_gets_the_whole_viewer(self):
        page = self.chromium.page(width=390, height=780, has_touch=True, is_mobile=True)
        page.goto(f"/m/{self.match.public_id}/")
        link = page.locator("#watch-replay")
        link.wait_for(state="visible")
        link.click()
        page.wait_for_url(f"**{self.url}")
        self.wait_replay(page, "r.tick === 0")
        field = page.locator("#field").bounding_box()
        self.assertLessEqual(field["width"], 390)
        for selector in ("#play", "#seek", "[data-speed='4']", "#final"):
            box = page.locator(selector).bounding_box()
            self.assertIsNotNone(box, selector)
            self.assertLessEqual(box["x"] + box["width"], 390, selector)
        page.tap("#play")
        self.wait_replay(page, "r.tick > 10")


class LiveMatchReplayTests(BrowserCase):
    """A match the engine plays to its end, then watched again from its result dialog."""

    NAME = "rp"
    DAPHNE_ENV = {}

    def test_the_result_dialog_offers_the_replay_which_ends_on_the_same_result(self):
        from matches import services
        from matches.models import Match, Player

        page = self.chromium.page()
        page.goto("/")
        page.fill("#nick", "Ann")
        page.click("#nick-form button[type=submit]")
        page.wait_for_function("() => window.__lobby && window.__lobby.player !== null")
        ann = Player.objects.get(display_name="Ann")
        # Pong to one point against a bot; Ann keeps her paddle in the top corner.
        match = services.match_create(title="pong", settings={"score_to": 1}, fill_with_bots=True)
        services.match_join(match_id=match.pk, player=ann)
        services.match_start(match_id=match.pk, countdown_s=1)
        page.goto(f"/m/{match.public_id}/")
        page.wait_for_function("() => window.__game && window.__game.state !== null")
        page.keyboard.down("ArrowUp")
        page.wait_for_function("() => window.__game.over !== null", timeout=60_000)
        page.keyboard.up("ArrowUp")
        headline = page.text_content("#result-headline")
        link = page.locator("#watch-replay")
        link.wait_for(state="visible", timeout=5000)  # asked of the API once the match is over
        link.click()
        page.wait_for_url(f"**/m/{match.public_id}/replay/")
        page.wait_for_function("() => window.__replay && window.__replay.tick === 0")
        page.keyboard.press("End")
        page.wait_for_function("() => window.__replay.ended")
        match = Match.objects.get(pk=match.pk)
        self.assertEqual(
            page.evaluate("() => window.__replay.state.scores"), match.summary["scores"]
        )
        self.assertEqual(
            page.text_content("#overlay-text"), headline.replace("You win!", "Ann wins")
        )
