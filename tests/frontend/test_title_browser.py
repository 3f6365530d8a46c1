"""The test-only title Dots (tests.titles.dots) on the real stack: collectstatic, Daphne, the
tick worker, the default worker and beat all started with ARCADE_TITLES naming it, as an
operator would deploy a new title. A match of it is created through the lobby API, played
over a real websocket and drawn by Chromium, with no edit outside its folder."""

import asyncio
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from django.test import TransactionTestCase

from tests.support import browser as chromium
from tests.support import stack
from tests.support.live import Browser, Client

ENV = {
    "ARCADE_TITLES": "matches.titles.pong,tests.titles.dots",
    "MATCH_COUNTDOWN_S": "1",
}
CELL = 40  # the Dots module's world units per cell

# The colour of the canvas pixel at the centre of cell (x, y) of a Dots field.
PIXEL = """([x, y, cell]) => {
  const canvas = document.getElementById("field");
  const k = canvas.width / (window.__game.state.w * cell);
  const at = (v) => (v + 0.5) * cell * k;
  return Array.from(canvas.getContext("2d").getImageData(at(x), at(y), 1, 1).data);
}"""


class TestTitleLiveTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        # The services collect and serve their own static files, as a deployment would.
        cls._var = tempfile.TemporaryDirectory()
        cls.env = {**ENV, "VAR_DIR": cls._var.name}
        cls.services = []
        try:
            collect = stack.Service(
                "collect-dots", [sys.executable, "manage.py", "collectstatic", "--noinput"],
                **cls.env,
            )  # fmt: skip
            cls.services.append(collect)
            assert collect.proc.wait(timeout=120) == 0, collect.log()[-3000:]
            stack.flush_redis()
            workers = [
                stack.tick_worker("ticks-dots", **cls.env),
                stack.default_worker("default-dots", **cls.env),
            ]
            cls.services += workers
            cls.services.append(stack.beat("beat-dots", **cls.env))
            stack.wait_ready(*workers)
            cls.daphne = stack.daphne("daphne-dots", **cls.env)
            cls.services.append(cls.daphne)
            cls.chromium = chromium.Chromium(cls.daphne.origin)
        except BaseException:
            cls._stop()
            raise

    @classmethod
    def _stop(cls):
        for service in reversed(cls.services):
            service.stop()
        cls._var.cleanup()
        if cls._async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.chromium.close()
        finally:
            cls._stop()
            super().tearDownClass()

    def wait_game(self, page, condition: str, timeout: float = 20) -> None:
        page.wait_for_function(
            f"() => {{ const g = window.__game; return !!(g && ({condition})); }}",
            timeout=timeout * 1000,
        )

    def test_a_dots_match_is_created_played_over_a_socket_and_drawn_in_chromium(self):
        bob = Browser(self.daphne.origin)
        bob.post("/api/me", {"display_name": "Bob"})
        _, listed = bob.request("GET", "/api/titles")
        self.assertIn("dots", [t["name"] for t in listed["titles"]])
        created = bob.post("/api/matches", {"title": "dots", "settings": {"score_to": 50}})
        public_id = created["match"]["id"]

        # Ada joins from the match page, as a person would; the match fills and starts.
        ada = self.chromium.page()
        ada.goto("/")
        ada.fill("#nick", "Ada")
        ada.click("#nick-form button[type=submit]")
        ada.wait_for_function("() => window.__lobby && window.__lobby.player !== null")
        ada.goto(f"/m/{public_id}/")
        ada.click("#join")
        self.wait_game(ada, "g.role === 'player' && g.slot === 1 && g.state !== null")
        self.assertEqual(ada.locator("#touch [data-control]").count(), 4)
        self.assertEqual(ada.locator("#scoreboard li").count(), 2)
        self.assertIn("stars", ada.text_content("#scoreboard"))
        self.assertIn("Move one cell with the arrow keys.", ada.text_content(".help"))

        async def play() -> dict:
            client = await Client.open(self.daphne.origin, public_id, cookie=bob.cookie_header)
            client.start()
            self.assertEqual((client.welcome["role"], client.welcome["slot"]), ("player", 0))
            await client.until(client.last, 15, "a first state")
            start = client.last()["state"]["dots"][0]
            await client.send_input({"move": "down"})
            await client.until(
                lambda: client.last()["state"]["dots"][0]["y"] == start["y"] + 1, 10, "Bob's move"
            )
            await client.close()
            return start

        # Playwright's sync API holds this thread's event loop: the socket gets a thread.
        with ThreadPoolExecutor(1) as pool:
            bob_start = pool.submit(asyncio.run, play()).result(timeout=60)
        self.assertEqual((bob_start["x"], bob_start["y"]), (1, 4))
        # Ada's page saw Bob's move, and drew her own dot where the state has it.
        self.wait_game(ada, "g.state.dots[0].y === 5")
        here = self.game_cell(ada, 1)
        self.assertEqual(here, [4, 4])
        dot_colour = self.pixel(ada, here)
        empty = [here[0] + 1, here[1]]
        background = self.pixel(ada, empty)
        self.assertNotEqual(dot_colour, background)

        # Her key press moves her dot one cell right: the state and the picture follow.
        ada.keyboard.press("ArrowRight")
        self.wait_game(ada, "g.state.dots[1].x === 5")
        ada.wait_for_function(
            f"(want) => JSON.stringify(({PIXEL})({[*empty, CELL]})) === JSON.stringify(want)",
            arg=dot_colour,
        )
        self.assertEqual(self.pixel(ada, here), background)
        errors = [line for line in self.chromium.console if line.startswith("pageerror")]
        self.assertEqual(errors, [])

    def game_cell(self, page, slot: int) -> list[int]:
        return page.evaluate(
            f"() => {{ const d = window.__game.state.dots[{slot}]; return [d.x, d.y]; }}"
        )

    def pixel(self, page, cell: list[int]) -> list[int]:
        return page.evaluate(PIXEL, [*cell, CELL])
