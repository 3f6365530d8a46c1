"""Players in real Chromium on a real stack: the host starts a match, copy-link, accounts
(sign up, log in on another device, change password, log out), the after-match choices."""

from tests.support.browsercase import MATCH_URL, STACK_ENV, BrowserCase

CLIPBOARD = ["clipboard-read", "clipboard-write"]
SECRET = "dan's secret 77"


class PlayerBrowserTests(BrowserCase):
    NAME = "players"
    # Time for three people to click quick play before the first one gets bots.
    DAPHNE_ENV = {**STACK_ENV, "QUICKPLAY_BOT_AFTER_S": "4"}

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

    def submit(self, page, form: str, fields: dict, *, says: str = "", lands_in_lobby=False):
        """Fill and send one of the account page's forms; wait for its answer."""
        for name, value in fields.items():
            page.fill(f"#{form} input[name={name}]", value)
        page.click(f"#{form} button[type=submit]")
        if lands_in_lobby:
            page.wait_for_url("**/")
            page.wait_for_function("() => window.__lobby !== undefined")
        else:
            page.wait_for_function(
                f"() => document.querySelector('#{form} .status').textContent.includes('{says}')"
            )

    def finish_a_match_for(self, *names: str, title: str = "pong") -> str:
        """A match of these players (bots in the other seats if alone) that finished: the
        first of them won."""
        from matches import services
        from matches.models import Match, Player

        match = services.match_create(title=title, fill_with_bots=len(names) == 1)
        for name in names:
            player, _ = Player.objects.get_or_create(display_name=name)
            services.match_join(match_id=match.pk, player=player)
        if Match.objects.get(pk=match.pk).status == Match.Status.WAITING:
            services.match_start(match_id=match.pk)
        services.match_begin(match_id=match.pk)
        result = {"scores": [3, 1], "winner": 0, "ranking": [0, 1], "summary": "3-1"}
        services.match_finish(match_id=match.pk, result=result)
        return match.public_id

    def result_dialog(self, page, public_id: str) -> None:
        page.goto(f"/m/{public_id}/")
        page.locator("#result").wait_for(state="visible")
        for button in ("#to-lobby", "#again"):
            self.assertTrue(page.is_visible(button), button)

    def test_after_a_match_both_players_agree_to_a_rematch_and_play_it(self):
        eva, fay = self.person("Eva"), self.person("Fay")
        old = self.finish_a_match_for("Eva", "Fay")
        self.result_dialog(eva, old)
        self.result_dialog(fay, old)
        eva.locator("#rematch").wait_for(state="visible")
        self.assertEqual(eva.text_content("#rematch"), "Rematch")
        eva.click("#rematch")
        eva.wait_for_function("() => document.getElementById('rematch-status').textContent"
                              ".includes('Waiting for Fay')")  # fmt: skip
        fay.wait_for_function("() => document.getElementById('rematch-status').textContent"
                              ".includes('Eva wants a rematch')")  # fmt: skip
        self.assertEqual(fay.text_content("#rematch"), "Accept rematch")
        self.assertTrue(fay.is_visible("#decline"))
        fay.click("#rematch")
        for page, slot in ((eva, 0), (fay, 1)):
            page.wait_for_url(MATCH_URL)
            page.wait_for_function(f"() => !location.pathname.includes('{old}')")
            self.wait_game(page, f"g.role === 'player' && g.slot === {slot} && g.state !== null")
        self.assertEqual(self.public_id(eva), self.public_id(fay))

    def test_a_declined_rematch_says_who_declined_and_back_to_the_lobby_works(self):
        gil, hal = self.person("Gil"), self.person("Hal")
        old = self.finish_a_match_for("Gil", "Hal")
        self.result_dialog(gil, old)
        self.result_dialog(hal, old)
        gil.locator("#rematch").wait_for(state="visible")
        gil.click("#rematch")
        hal.locator("#decline").wait_for(state="visible")
        hal.click("#decline")
        gil.wait_for_function("() => document.getElementById('rematch-status').textContent"
                              ".includes('Hal declined the rematch')")  # fmt: skip
        self.assertFalse(gil.is_visible("#rematch"))
        hal.click("#to-lobby")
        hal.wait_for_url("**/")

    def test_a_guest_signs_up_after_a_match_and_logs_in_on_another_device(self):
        dan = self.person("Dan")
        self.assertIn("guest", dan.text_content("header .who"))
        self.assertFalse(dan.is_visible("#signup-prompt"))
        self.finish_a_match_for("Dan")
        self.open_lobby(dan)
        dan.locator("#signup-prompt").wait_for(state="visible")
        dan.click("#signup-prompt a")
        dan.wait_for_url("**/account/")
        self.submit(dan, "signup-form", {"username": "dan", "password": "2short"},
                    says="too short")  # fmt: skip
        self.submit(dan, "signup-form", {"password": SECRET}, lands_in_lobby=True)
        self.assertEqual(dan.text_content("#who-account"), "dan")
        self.assertFalse(dan.is_visible("#signup-prompt"))
        player_id = dan.evaluate("() => window.__lobby.player.id")

        # A new device: log in with a wrong password first, then the right one.
        phone = self.chromium.page(width=390, height=780, is_mobile=True, has_touch=True)
        phone.goto("/")
        phone.click("#who-account")
        phone.wait_for_url("**/account/")
        self.submit(phone, "login-form", {"username": "dan", "password": "wrong"}, says="wrong")
        self.submit(phone, "login-form", {"password": SECRET}, lands_in_lobby=True)
        self.assertEqual(phone.evaluate("() => window.__lobby.player.id"), player_id)
        self.assertIn("Dan", phone.text_content("header .who"))
        phone.goto(f"/players/{player_id}/")
        self.assertIn("Pong", phone.text_content("main"))  # the history came along

        # The phone changes the password: the laptop's session is logged out.
        phone.goto("/account/")
        self.submit(phone, "password-form",
                    {"old_password": SECRET, "new_password": "a brand new one 88"},
                    says="changed")  # fmt: skip
        self.open_lobby(dan)
        self.assertEqual(dan.text_content("#who-account"), "Log in")
        phone.click("#logout")
        phone.wait_for_url("**/")
        phone.wait_for_function("() => window.__lobby !== undefined")
        self.assertIsNone(phone.evaluate("() => window.__lobby.player"))
        self.assertEqual(phone.text_content("#who-account"), "Log in")

    def test_the_leaderboards_show_the_conservative_estimate_and_games(self):
        from matches.models import Rating

        self.finish_a_match_for("Ivy", "Jon", title="snake")
        self.finish_a_match_for("Ivy", "Jon", title="pong")
        page = self.chromium.page()
        page.goto("/leaderboard/snake/")
        rows = page.locator("table.leaderboard tbody tr")
        self.assertEqual(rows.count(), 2)
        first = rows.nth(0)
        ivy = Rating.objects.get(title="snake", player__display_name="Ivy")
        self.assertIn("Ivy", first.text_content())
        self.assertEqual(
            first.locator(".rating").text_content(), str(round(ivy.mu - 3 * ivy.sigma))
        )
        self.assertEqual(first.locator(".skill").text_content(),
                         f"{round(ivy.mu)} ± {round(ivy.sigma)}")  # fmt: skip
        self.assertEqual(first.locator(".games").text_content(), "1")
        self.assertIn("conservative estimate", page.text_content("main"))
        page.click("nav.tabs >> text=Pong")
        page.wait_for_url("**/leaderboard/pong/")
        self.assertEqual(page.locator("table.leaderboard tbody tr .rating").first.text_content(),
                         "1216")  # fmt: skip
        self.assertEqual(page.locator(".skill").count(), 0)  # Elo has no uncertainty

    def test_quick_play_pairs_the_close_ratings_and_leaves_the_far_one_to_bots(self):
        from matches.models import Match, Player, Rating

        kai, lea, max_ = self.person("Kai"), self.person("Lea"), self.person("Max")
        for name, rating in (("Kai", 1900), ("Lea", 1210)):
            player = Player.objects.get(display_name=name)
            Rating.objects.create(player=player, title="pong", rating=rating, games=40)
        for page in (kai, lea):
            page.click(".card[data-title=pong] button.quick")
            page.wait_for_function("() => window.__lobby.searching === 'pong'")
        lea.wait_for_function("() => document.querySelector('.card[data-title=pong] .qp-status')"
                              ".textContent.includes('Looking')")  # fmt: skip
        together = self.quick_play(max_, "pong")  # new: 1200, ten from Lea, 700 from Kai
        lea.wait_for_url(MATCH_URL)
        self.assertEqual(self.public_id(lea), together)
        self.assertEqual(self.game(kai, "window.__lobby.searching"), "pong")  # still looking
        kai.wait_for_url(MATCH_URL, timeout=10_000)  # bots, after the wait
        alone = Match.objects.get(public_id=self.public_id(kai))
        self.assertEqual(alone.participations.filter(is_bot=False).count(), 1)
        pair = Match.objects.get(public_id=together)
        names = {p.player.display_name for p in pair.participations.select_related("player")}
        self.assertEqual(names, {"Lea", "Max"})
