"""Players in real Chromium on a real stack: the host starts a match, copy-link, accounts
(sign up, log in on another device, change password, log out), the after-match choices."""

from tests.support.browsercase import MATCH_URL, BrowserCase

CLIPBOARD = ["clipboard-read", "clipboard-write"]


class PlayerBrowserTests(BrowserCase):
    def create_match(self, page, title: str) -> str:
        page.click(f".card[data-title={title}] details summary")
        page.click(f".card[data-title={title}] form.create-form button[type=submit]")
        page.wait_for_url(MATCH_URL)
        return self.public_id(page)

    def test_the_host_starts_a_snake_match_of_two_friends_and_shares_its_link(self):
        ann = self.person("Ann", permissions=CLIPBOARD)
        public_id = self.create_match(ann, "snake")
        self.wait_game(ann, "g.status === 'waiting' && g.connection === 'open'")
        self.assertTrue(ann.is_visible("#start"))
        self.assertFalse(ann.is_visible("#waiting-host"))
        ann.click("#copy-link")
        ann.wait_for_function("() => document.getElementById('waiting-status').textContent")
        copied = ann.evaluate("() => navigator.clipboard.readText()")
        self.assertEqual(copied, ann.url)
        self.assertIn("Link copied", ann.text_content("#waiting-status"))
        # Without bots one player is below Snake's minimum: the button says no.
        ann.uncheck("#start-bots")
        self.assertTrue(ann.is_disabled("#start"))

        bob = self.person("Bob")
        bob.goto(copied)
        bob.click("#join")
        self.wait_game(bob, "g.role === 'player' && g.slot === 1 && g.connection === 'open'")
        bob.locator("#waiting-host").wait_for(state="visible")
        self.assertFalse(bob.is_visible("#start"))
        self.wait_game(ann, "g.players.length === 2")
        ann.wait_for_function("() => !document.getElementById('start').disabled")
        ann.click("#start")
        for page in (ann, bob):
            self.wait_game(page, "g.state !== null && g.statuses.includes('countdown')")
            page.locator("#waiting-bar").wait_for(state="hidden")
        self.assertEqual(self.game(ann, "g.state.snakes.length"), 2)  # nobody else, no bots

        from matches.models import Match

        match = Match.objects.get(public_id=public_id)
        self.assertFalse(match.participations.filter(is_bot=True).exists())

    def test_a_lone_host_starts_with_bots(self):
        cat = self.person("Cat")
        self.create_match(cat, "arena")
        self.wait_game(cat, "g.status === 'waiting' && g.connection === 'open'")
        cat.click("#start")
        self.wait_game(cat, "g.state !== null && g.state.ships.length === 8")
