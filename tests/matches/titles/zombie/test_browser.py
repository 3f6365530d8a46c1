"""Zombie Siege in Chromium on the real stack (Daphne, tick worker, default worker, beat):
quick play seats a person with three bots; the page draws the office's walls, the held D key
walks the player, the mouse aims and the button shoots, and the team plays through wave 1.
The screenshot goes to docs/screenshots/zombie.png (README.md shows it)."""

import time

from tests.support import browser as chromium
from tests.support.browsercase import BrowserCase
from tests.support.replays import finished_with_replay

TILE = 24  # the module's world units per tile (browser/render.js)

# The colour of the canvas pixel at the centre of tile (x, y).
PIXEL = """([x, y, tile]) => {
  const canvas = document.getElementById("field");
  const k = canvas.width / (window.__game.state.w * tile);
  return Array.from(canvas.getContext("2d").getImageData((x + 0.5) * tile * k,
                                                          (y + 0.5) * tile * k, 1, 1).data);
}"""

# Where on the page the nearest zombie to the own player is (client pixels), or null.
NEAREST = """(tile) => {
  const g = window.__game;
  const me = g.state.team[g.slot];
  const zs = g.state.zombies;
  if (!zs.length) return null;
  let best = zs[0];
  const d2 = (z) => (z[1] - me.x) ** 2 + (z[2] - me.y) ** 2;
  for (const z of zs) if (d2(z) < d2(best)) best = z;
  const r = document.getElementById("field").getBoundingClientRect();
  const k = r.width / (g.state.w * tile);
  return [r.left + best[1] * tile * k, r.top + best[2] * tile * k];
}"""


class ZombieSiegeBrowserTests(BrowserCase):
    NAME = "zombie"

    def test_quick_play_draws_the_map_walks_aims_shoots_and_plays_through_a_wave(self):
        zed = self.person("Zed")
        public_id = self.quick_play(zed, "zombie")
        self.wait_game(zed, "g.role === 'player' && g.slot === 0 && g.state !== null")
        self.wait_game(zed, "g.players.filter(p => p.bot).length === 3")
        self.assertEqual(self.game(zed, "g.state.team.length"), 4)
        self.assertIn("revive", zed.text_content(".help"))
        self.wait_game(zed, "g.frames > 10")
        # The office's corner is a wall, the tile inside it floor: drawn apart.
        wall = zed.evaluate(PIXEL, [0, 0, TILE])
        floor = zed.evaluate(PIXEL, [2, 2, TILE])
        self.assertNotEqual(wall[:3], floor[:3])

        # Holding D walks the player right (the bots stay put near the start for a while).
        x0 = self.game(zed, "g.state.team[0].x")
        zed.keyboard.down("KeyD")
        self.wait_game(zed, f"g.state.team[0].x > {x0} + 0.5", timeout=10)
        zed.keyboard.up("KeyD")

        # Wave 1 comes; the player aims at the nearest zombie and holds the button.
        self.wait_game(zed, "g.state.wave === 1 && g.state.zombies.length > 0", timeout=20)
        shot = pictured = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.game(zed, "g.state.wave >= 2 || g.state.next_wave_in > 0 || g.state.finished"):
                break
            target = zed.evaluate(NEAREST, TILE)
            if target is not None:
                zed.mouse.move(*target)
                zed.mouse.down()
            shot = shot or self.game(zed, "g.state.team[0].ammo < 60")
            if not pictured and self.game(zed, "g.state.zombies.length >= 8"):
                chromium.screenshot(zed, "zombie.png")  # the horde in, the team shooting
                pictured = True
            time.sleep(0.25)
        zed.mouse.up()
        self.assertTrue(shot, "the player never fired")
        if not pictured:
            chromium.screenshot(zed, "zombie.png")
        state = self.game(zed, "({wave: g.state.wave, next: g.state.next_wave_in, "
                               "finished: g.state.finished, kills: g.state.scores})")  # fmt: skip
        self.assertFalse(state["finished"], state)  # four players outlive wave 1
        self.assertTrue(state["wave"] >= 2 or state["next"] > 0, state)
        self.assertGreater(sum(state["kills"]), 0)
        self.assertIn("Zed", zed.text_content("#scoreboard"))

        # A spectator opening the match's page watches it (a little late) with the same module.
        eve = self.person("Eve")
        eve.goto(f"/m/{public_id}/")
        self.wait_game(eve, "g.role === 'spectator' && g.state !== null && g.frames > 10")
        self.assertEqual(self.game(eve, "g.state.team.length"), 4)

    def test_the_replay_viewer_plays_a_finished_match_and_the_leaderboard_lists_its_players(self):
        match, final = finished_with_replay(
            "zombie", names=("ann", "bob"), settings={"waves": 1, "difficulty": 1}, seed=3
        )
        self.assertTrue(final["finished"])
        # A finished match (played out here by the bots for two people,
        # tests/support/replays.py) in the replay viewer and on the leaderboard.
        page = self.chromium.page()
        page.goto(f"/m/{match.public_id}/replay/")
        page.wait_for_function("() => window.__replay && window.__replay.frames > 0")
        self.assertIn("wave 1/1", page.text_content("#final"))
        still = page.evaluate("() => document.getElementById('field').toDataURL()")
        page.click("#play")
        page.wait_for_function("() => window.__replay.tick > 80", timeout=15_000)
        moved = page.evaluate("() => document.getElementById('field').toDataURL()")
        self.assertNotEqual(moved, still)
        board = page.text_content("#scoreboard")
        self.assertIn("ann", board)
        self.assertIn("bob", board)
        errors = [line for line in self.chromium.console if line.startswith("pageerror")]
        self.assertEqual(errors, [])
        page.goto("/leaderboard/zombie/")
        self.assertIn("ann", page.text_content("main"))
        self.assertIn("bob", page.text_content("main"))
