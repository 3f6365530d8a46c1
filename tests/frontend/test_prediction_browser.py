"""Prediction in real Chromium through the impairment proxy (realtime/dev/netem.py): at the
`mobile` profile's 120 ms round trip, the own paddle is drawn moving about a frame after the
key goes down, while the server's states show it a round trip later."""

import time

from realtime.dev import netem
from tests.support.browsercase import MATCH_URL, BrowserCase


class PredictionBrowserTests(BrowserCase):
    NAME = "fe-predict"

    def test_through_a_mobile_network_the_own_paddle_moves_at_once_and_the_badge_shows_it(self):
        daphne_port = int(self.daphne.origin.rsplit(":", 1)[1])
        upstream = ("127.0.0.1", daphne_port)
        with netem.proxy_thread(upstream=upstream, profile=netem.PROFILES["mobile"],
                                seed=5) as proxy:  # fmt: skip
            context = self.chromium.browser.new_context(
                base_url=f"http://127.0.0.1:{proxy.port}", viewport={"width": 1100, "height": 760}
            )
            try:
                page = context.new_page()
                page.set_default_timeout(30_000)
                errors = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                self.open_lobby(page)
                page.fill("#nick", "Pia")
                page.click("#nick-form button[type=submit]")
                page.wait_for_function("() => window.__lobby && window.__lobby.player !== null")
                page.click(".card[data-title=pong] button.quick")
                page.wait_for_url(MATCH_URL, timeout=30_000)
                self.wait_game(page, "g.role === 'player' && g.state !== null && g.rtt !== null",
                               timeout=30)  # fmt: skip
                time.sleep(1.0)  # a few acknowledged inputs: the page has learnt its lead
                presses = []
                # A press counts only from a paddle drawn standing still (a correction still
                # fading moves it): up to 8 presses for 3 counted ones.
                for key in ("ArrowDown", "ArrowUp") * 4:
                    if len(presses) >= 3:
                        break
                    page.evaluate("() => window.__game.probe.reset()")
                    # A press counts from where the paddle is drawn: a frame after the reset.
                    self.wait_game(page, "g.probe.frames >= 2", timeout=10)
                    y = self.game(page, f"g.state.paddles[{self.game(page, 'g.slot')}].y")
                    page.keyboard.down(key)
                    time.sleep(0.25)
                    page.keyboard.up(key)
                    time.sleep(0.9)
                    presses += self.game(page, "g.probe.latencies")
                    slot = self.game(page, "g.slot")
                    moved = self.game(page, f"g.state.paddles[{slot}].y") != y
                    self.assertTrue(moved, "the server's states show the paddle moved too")
                badge = page.text_content("#net")
                rtt = self.game(page, "g.rtt")
            finally:
                context.close()
        self.assertEqual(errors, [])
        self.assertGreaterEqual(len(presses), 3, presses)
        # A busy machine may miss a frame or two; the states alone take a round trip (120 ms+).
        self.assertLess(sorted(presses)[len(presses) // 2], 60, presses)
        # The profile adds 60 ± 30 ms each way: a smoothed RTT of a few pings can be anywhere
        # above 60 (loopback alone: ~1 ms).
        self.assertGreater(rtt, 60)
        self.assertRegex(badge, r"^jitter \d+ ms · loss \d+(\.\d)? %$")
