"""The front end in real headless Chromium against a real stack: Daphne, Redis, the tick worker,
the default worker and beat. Each browser context is one person with their own session.

The pages expose what they know as ``window.__game`` (role, slot, status, latest snapshot,
result) and ``window.__lobby``; the tests read it next to the DOM. Screenshots of the lobby
and of each title in play go to docs/screenshots/ (README.md shows them).
"""

import itertools
import time

from tests.support import browser as chromium
from tests.support import stack
from tests.support.browsercase import MATCH_URL, BrowserCase


class BrowserTests(BrowserCase):
    # --- scenarios -----------------------------------------------------------------------

    def test_pong_create_join_keys_spectator_reload_score_and_result(self):
        bob = self.person("Bob")  # his lobby is open before the match exists
        ada = self.person("Ada")
        ada.click(".card[data-title=pong] details summary")
        ada.fill(".card[data-title=pong] input[name=score_to]", "5")
        ada.click(".card[data-title=pong] form.create-form button[type=submit]")
        ada.wait_for_url(MATCH_URL)
        public_id = self.public_id(ada)
        self.wait_game(ada, "g.status === 'waiting' && g.role === 'player' && g.slot === 0")
        self.assertIn("Waiting for players", ada.text_content("#overlay"))

        # It shows up in Bob's lobby without a reload (the list is polled); he joins.
        join = bob.locator(f"tr[data-match='{public_id}'] button.join")
        join.wait_for(timeout=10_000)
        self.assertIn("Ada (1/2)", bob.text_content(f"tr[data-match='{public_id}']"))
        join.click()
        bob.wait_for_url(MATCH_URL)
        for page, slot in ((ada, 0), (bob, 1)):
            self.wait_game(page, f"g.role === 'player' && g.slot === {slot} && g.state !== null")
        # Ada's page went through the countdown it was told about when Bob joined.
        self.assertEqual(self.game(ada, "g.statuses"), ["waiting", "countdown", "running"])
        # 30 states a second in, every display frame out (headless Chromium: 60 Hz).
        frames = self.game(ada, "g.frames")
        time.sleep(1.0)
        fps = self.game(ada, "g.frames") - frames
        print(f"\n  Pong page: {fps} frames drawn in 1 s")
        self.assertGreater(fps, 40)
        self.wait_game(ada, "g.connection === 'open' && g.rtt !== null")
        self.assertRegex(ada.text_content("#rtt"), r"RTT \d+ ms")
        self.assertEqual(ada.text_content("#conn-state"), "Connected")

        # Ada holds ↓: her paddle's y grows from snapshot to snapshot.
        ys = self.paddle_ys_while_holding(ada, "ArrowDown", slot=0)
        self.assertGreater(ys[-1], ys[0] + 60, ys)
        self.assertGreater(sum(b > a for a, b in itertools.pairwise(ys)), len(ys) // 2)
        self.assertTrue(self.game(bob, "g.state.paddles[0].y") > 250 + 40)  # Bob sees it too

        # A visitor without a nickname watches from the lobby's list.
        eve = self.person(None)
        watch = eve.locator(f"tr[data-match='{public_id}'] a.button")
        watch.wait_for(timeout=10_000)
        self.assertEqual(watch.text_content(), "Watch")
        chromium.screenshot(eve, "lobby.png")
        watch.click()
        eve.wait_for_url(MATCH_URL)
        self.wait_game(eve, "g.role === 'spectator' && g.slot === null && g.state !== null")
        self.assertTrue(eve.is_visible("#spectator-banner"))
        self.assertRegex(eve.text_content("#spectator-banner"), r"\d+ s behind the players")
        self.assertFalse(ada.is_visible("#spectator-banner"))
        tick = self.game(eve, "g.tick")
        self.wait_game(eve, f"g.tick > {tick} + 5")

        # Bob reloads mid-match: a new socket, the same slot, and his keys still steer it.
        bob.reload()
        self.wait_game(bob, "g.welcomes === 1 && g.role === 'player' && g.slot === 1")
        self.wait_game(bob, "g.state !== null && g.connection === 'open'")
        ys = self.paddle_ys_while_holding(bob, "ArrowUp", slot=1)
        self.assertLess(ys[-1], ys[0] - 60, ys)

        # Bob wanders off to the lobby: Pong waits for him, and Ada's page says so.
        bob.goto("/")
        self.wait_game(ada, "g.paused.includes(1)", timeout=10)
        ada.locator("#overlay").wait_for(state="visible")
        self.assertIn("waiting for Bob to reconnect", ada.text_content("#overlay"))
        paused_at = self.game(ada, "g.tick")
        time.sleep(0.5)
        self.assertEqual(self.game(ada, "g.tick"), paused_at)
        rejoin = bob.locator(f"tr[data-match='{public_id}'] a.button")
        rejoin.wait_for(timeout=10_000)
        self.assertEqual(rejoin.text_content(), "Rejoin")
        rejoin.click()
        self.wait_game(bob, "g.role === 'player' && g.slot === 1 && g.state !== null")
        self.wait_game(ada, f"g.paused.length === 0 && g.tick > {paused_at}", timeout=10)
        # The overlay is hidden on the next animation frame after the state that unpaused.
        ada.locator("#overlay").wait_for(state="hidden", timeout=3_000)

        # Nobody defends: points come, the scoreboard follows, first to 5 wins.
        self.wait_game(ada, "g.state.scores[0] + g.state.scores[1] >= 1", timeout=30)
        board = ada.text_content("#scoreboard")
        self.assertIn("Ada (you)", board)
        self.assertIn("Bob", board)
        shown, scores = ada.evaluate("""() => [
            [...document.querySelectorAll('#scoreboard .score')].map(el => +el.textContent),
            window.__game.state.scores]""")
        self.assertEqual(shown, scores)
        self.wait_game(ada, "g.state.serve_in === 0 && !g.state.finished", timeout=10)
        time.sleep(0.3)  # the ball a little way into the next rally
        chromium.screenshot(ada, "pong.png")
        for page in (ada, bob, eve):
            self.wait_game(page, "g.over !== null", timeout=40)
            page.locator("#result").wait_for(state="visible")
        winner = self.game(ada, "g.over.result.winner")
        self.assertIn(
            "You win!" if winner == 0 else "Bob wins", ada.text_content("#result-headline")
        )
        self.assertIn("wins" if winner == 0 else "You win!", bob.text_content("#result-headline"))
        self.assertRegex(eve.text_content("#result-summary"), r"Final score \d\u2013\d")
        self.assertTrue(ada.is_visible("#again"))

        # "Play again" goes back to the lobby and straight into quick play for Pong.
        ada.click("#again")
        ada.wait_for_function("() => window.__lobby && window.__lobby.searching === 'pong'")
        ada.click(".card[data-title=pong] button.quick")  # cancel: no bot match left behind
        ada.wait_for_function("() => window.__lobby.searching === null")

    def paddle_ys_while_holding(self, page, key: str, *, slot: int) -> list[float]:
        """The paddle's y in consecutive snapshots while ``key`` is held for about 0.6 s."""
        page.evaluate(
            """(slot) => {
                const g = window.__game; g.trace = [];
                const seen = new Set();
                g.traceTimer = setInterval(() => {
                    if (g.state && !seen.has(g.tick)) {
                        seen.add(g.tick); g.trace.push(g.state.paddles[slot].y);
                    }
                }, 10);
            }""",
            slot,
        )
        page.keyboard.down(key)
        time.sleep(0.6)
        page.keyboard.up(key)
        return page.evaluate(
            "() => { clearInterval(window.__game.traceTimer); return window.__game.trace; }"
        )

    def test_quick_play_alone_starts_a_snake_match_against_bots(self):
        dee = self.person("Dee")
        public_id = self.quick_play(dee, "snake")
        self.wait_game(dee, "g.role === 'player' && g.slot === 0 && g.state !== null")
        self.assertEqual(self.game(dee, "g.state.snakes.length"), 4)  # Snake's default seats
        self.wait_game(dee, "g.players.filter(p => p.bot).length === 3")
        # Turn toward the middle, away from the wall ahead; the snake's direction follows.
        heading, x = self.game(dee, "[g.state.snakes[0].dir, g.state.snakes[0].body[0][0]]")
        dee.keyboard.press("ArrowRight" if x < 16 else "ArrowLeft")
        self.wait_game(dee, f"g.state.snakes[0].dir !== '{heading}'", timeout=10)
        tick = self.game(dee, "g.tick")
        self.wait_game(dee, f"g.tick >= {tick} + 3 && g.frames > 30")
        chromium.screenshot(dee, "snake.png")
        self.assertIn("Bot 2", dee.text_content("#scoreboard"))

        from matches.models import Match

        match = Match.objects.get(public_id=public_id)
        self.assertTrue(match.fill_with_bots)
        self.assertEqual(match.participations.filter(is_bot=True).count(), 3)

    def test_quick_play_arena_aims_with_the_mouse_and_fires(self):
        kim = self.person("Kim")
        self.quick_play(kim, "arena")
        self.wait_game(kim, "g.role === 'player' && g.state !== null && g.frames > 10")
        self.assertEqual(self.game(kim, "g.state.ships.length"), 8)
        box = kim.locator("#field").bounding_box()
        # Aim at the world's top-left corner: the ship turns until it faces the mouse.
        kim.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
        facing = """(() => {
            const s = g.state.ships[g.slot];
            const d = Math.atan2(100 - s.y, 100 - s.x) - s.a;
            return s.alive && Math.abs(Math.atan2(Math.sin(d), Math.cos(d))) < 0.2;
        })()"""
        self.wait_game(kim, facing, timeout=10)
        # The bots fight once their spawn protection (2 s) is over.
        self.wait_game(kim, "g.tick > 80 && g.state.ships[g.slot].alive", timeout=10)
        chromium.screenshot(kim, "arena.png")
        kim.mouse.down()
        # Our shot is drawn from the prediction (the predicted ship's own shots); then the
        # server's states have it too. Whether the first such frame came before the states did
        # depends on how late a busy machine draws it: bench_network measures that, not this.
        kim.wait_for_function(
            "() => window.__game.drawn?.own?.shots?.length > 0", polling="raf", timeout=10_000
        )
        self.wait_game(kim, "g.state.shots.some(s => s[4] === g.slot)", timeout=10)
        kim.mouse.up()

        # The network drops the socket: the page reconnects by itself (backoff) into the
        # same ship, and the mouse steers it again.
        slot = self.game(kim, "g.slot")
        kim.evaluate("() => window.__game.dropConnection()")
        self.wait_game(kim, "g.connection === 'reconnecting'", timeout=5)
        self.assertIn("Reconnecting", kim.text_content("#conn-state"))
        self.wait_game(kim, f"g.welcomes === 2 && g.connection === 'open' && g.slot === {slot}")
        tick = self.game(kim, "g.tick")
        self.wait_game(kim, f"g.tick > {tick} + 10")
        kim.mouse.down()
        self.wait_game(kim, f"g.state.shots.some(s => s[4] === {slot})", timeout=10)
        kim.mouse.up()

    def test_a_narrow_phone_screen_gets_touch_controls(self):
        sam = self.person("Sam", width=390, height=780, has_touch=True, is_mobile=True)
        self.quick_play(sam, "pong")
        self.wait_game(sam, "g.role === 'player' && g.state !== null")
        self.assertTrue(sam.is_visible("#touch [data-control=down]"))
        field = sam.locator("#field").bounding_box()
        self.assertLessEqual(field["width"], 390)
        y0 = self.game(sam, "g.state.paddles[0].y")
        button = sam.locator("#touch [data-control=down]").bounding_box()
        x, y = button["x"] + button["width"] / 2, button["y"] + button["height"] / 2
        sam.mouse.move(x, y)
        sam.mouse.down()
        self.wait_game(sam, f"g.state.paddles[0].y > {y0} + 40", timeout=10)
        sam.mouse.up()
        sam.screenshot(path=str(stack.LOG_DIR / "phone-pong.png"), full_page=True)
        sam.goto("/")
        sam.screenshot(path=str(stack.LOG_DIR / "phone-lobby.png"), full_page=True)

    def test_the_timeline_draws_between_the_last_two_states_at_any_frame_rate(self):
        page = self.chromium.page()
        page.goto("/")
        report = page.evaluate(
            """async () => {
            const { Timeline } = await import("/static/frontend/timeline.js");
            const t = new Timeline(30);
            const dt = 1000 / 30;
            const out = { frames: 0, outside: 0, backwards: 0, between: 0, maxLag: 0 };
            let last = -1, tick = 0, arrivals = [];
            // 4 s of 30 Hz states arriving with up to 12 ms of jitter, drawn at 60 fps.
            for (let k = 0; k < 120; k++) arrivals.push(k * dt + 5 + ((k * 7919) % 13));
            for (let now = 0; now < 4000; now += 1000 / 60) {
                while (tick < arrivals.length && arrivals[tick] <= now) {
                    t.push(tick, { tick }, arrivals[tick]); tick++;
                }
                const f = t.frame(now);
                if (!f) continue;
                out.frames++;
                const between = f.a.tick <= f.tick && f.tick <= f.b.tick;
                if (!between || f.alpha < 0 || f.alpha > 1) out.outside++;
                if (f.tick < last) out.backwards++;
                last = f.tick;
                if (f.alpha > 0.05 && f.alpha < 0.95) out.between++;
                out.maxLag = Math.max(out.maxLag, t.latest.tick - f.tick);
            }
            // A pause: the same tick for 2 s, then ticks again; the clock catches up at once.
            const paused = tick - 1;
            let now = 4000;
            for (; now < 6000; now += dt) t.push(paused, { tick: paused }, now);
            for (let k = 1; k <= 10; k++, now += dt) t.push(paused + k, { tick: paused + k }, now);
            out.afterPause = t.latest.tick - t.renderTick(now);
            return out;
        }"""
        )
        self.assertGreater(report["frames"], 200)
        self.assertEqual((report["outside"], report["backwards"]), (0, 0), report)
        # Most frames fall between two states (a blend), not on one (a 30 Hz step).
        self.assertGreater(report["between"], report["frames"] * 0.6, report)
        self.assertLess(report["maxLag"], 2.5, report)  # about one tick behind the newest
        self.assertLess(report["afterPause"], 2.5, report)

    def test_the_lobby_works_from_the_keyboard_alone(self):
        page = self.chromium.page()
        self.open_lobby(page)
        page.keyboard.press("Tab")  # the skip link comes first
        self.assertEqual(page.evaluate("() => document.activeElement.className"), "skip")
        page.focus("#nick")
        page.keyboard.type("Lee")
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__lobby.player !== null")
        # Tab on to Pong's quick play button and press it: the search starts; again: stops.
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.matches('button.quick')"):
                break
        self.assertEqual(page.evaluate("() => document.activeElement.dataset.title"), "pong")
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__lobby.searching === 'pong'")
        self.assertEqual(
            page.evaluate("() => document.activeElement.getAttribute('aria-pressed')"), "true"
        )
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__lobby.searching === null")
