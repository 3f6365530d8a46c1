"""Accounts over the lobby API: sign up keeps the guest, log in elsewhere brings it back,
passwords, log-out, and the log-in limiter on a real Redis."""

import time

from django.contrib.auth import get_user_model
from django.test import override_settings

from matches import services
from matches.models import Player, Rating
from realtime import store
from tests.realtime.lobby.test_api import ApiCase, ApiClient

PASSWORD = "correct horse 42"


class AccountTests(ApiCase):
    def signup(self, client: ApiClient, username: str = "ann", password: str = PASSWORD):
        return client.post("/api/account/signup", {"username": username, "password": password})

    def login(self, client: ApiClient, username: str = "ann", password: str = PASSWORD):
        return client.post("/api/account/login", {"username": username, "password": password})

    def test_a_guest_who_signs_up_keeps_its_player_history_and_ratings(self):
        guest = self.ann.get("/api/me").json()["player"]
        player = Player.objects.get(pk=guest["id"])
        Rating.objects.create(player=player, title="pong", rating=1300, games=3)
        match = services.match_create(title="pong")
        services.match_join(match_id=match.pk, player=player)
        response = self.signup(self.ann)
        self.assertEqual(response.status_code, 200, response.content)
        me = response.json()["player"]
        self.assertEqual((me["id"], me["display_name"], me["account"]), (guest["id"], "ann", "ann"))
        self.assertEqual(self.ann.get("/api/me").json()["player"]["account"], "ann")
        self.assertEqual(Player.objects.get(pk=guest["id"]).user.username, "ann")

        # Another device: cookies gone, the log-in brings the same player back.
        phone = ApiClient()
        phone.nickname("somebody else")
        response = self.login(phone)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["player"]["id"], guest["id"])
        history = phone.get(f"/api/players/{guest['id']}").json()
        self.assertEqual(history["ratings"]["pong"]["rating"], 1300)
        self.assertEqual(phone.get(f"/api/matches/{match.public_id}").json()["match"]["your_slot"],
                         0)  # fmt: skip

    def test_a_visitor_signing_up_gets_a_new_player_named_after_the_account(self):
        response = self.signup(ApiClient(), username="zed")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["player"]["display_name"], "zed")

    def test_a_guest_is_claimed_only_by_the_browser_that_holds_it(self):
        ann = self.ann.get("/api/me").json()["player"]
        other = ApiClient()
        response = self.signup(other, username="thief")
        self.assertNotEqual(response.json()["player"]["id"], ann["id"])
        self.assertIsNone(Player.objects.get(pk=ann["id"]).user)
        # The API takes no player id at all: naming one is an unknown field.
        body = {"username": "thief2", "password": PASSWORD, "player": ann["id"]}
        self.assert_error(other.post("/api/account/signup", body), 400, "bad_request")

    def test_sign_up_errors(self):
        self.assertEqual(self.signup(self.ann).status_code, 200)
        self.assert_error(self.signup(self.ann, username="ann2"), 409, "already_signed_up")
        self.assert_error(self.signup(ApiClient(), username="ANN"), 409, "username_taken")
        bad = [
            ({"username": "bob", "password": "short"}, 400, "bad_password"),
            ({"username": "bob", "password": "12345678901"}, 400, "bad_password"),
            ({"username": "bob", "password": "password123"}, 400, "bad_password"),
            ({"username": "bob bob", "password": PASSWORD}, 400, "bad_username"),
            ({"username": "", "password": PASSWORD}, 400, "bad_username"),
            ({"username": "b" * 31, "password": PASSWORD}, 400, "bad_username"),
            ({"username": "bob", "password": 5}, 400, "bad_request"),
            ({"username": "bob"}, 400, "bad_request"),
        ]
        for body, status, code in bad:
            with self.subTest(body=body):
                self.assert_error(ApiClient().post("/api/account/signup", body), status, code)
        self.assert_error(ApiClient().post("/api/account/signup", raw="[1"), 400, "bad_json")
        self.assertEqual(get_user_model().objects.count(), 1)

    def test_wrong_password_and_unknown_username_are_the_same_401(self):
        self.signup(self.ann)
        self.assert_error(self.login(ApiClient(), password="nope"), 401, "bad_credentials")
        self.assert_error(self.login(ApiClient(), username="nobody"), 401, "bad_credentials")

    def test_log_out_ends_the_session_s_hold_on_the_player(self):
        self.signup(self.ann)
        response = self.ann.post("/api/account/logout")
        self.assertEqual(response.json(), {"player": None})
        self.assertIsNone(self.ann.get("/api/me").json()["player"])
        self.assert_error(self.ann.post("/api/matches", {"title": "pong"}), 403, "no_player")

    def test_change_password_keeps_this_session_and_logs_out_the_others(self):
        self.signup(self.ann)
        phone = ApiClient()
        self.login(phone)
        url = "/api/account/password"
        self.assert_error(self.ann.post(url, {"old_password": "nope", "new_password": "x y z 987"}),
                          403, "wrong_password")  # fmt: skip
        self.assert_error(self.ann.post(url, {"old_password": PASSWORD, "new_password": "1"}),
                          400, "bad_password")  # fmt: skip
        self.assert_error(ApiClient().post(url, {}), 403, "not_signed_in")
        body = {"old_password": PASSWORD, "new_password": "battery staple 7"}
        response = self.ann.post(url, body)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(self.ann.get("/api/me").json()["player"]["account"], "ann")
        self.assertIsNone(phone.get("/api/me").json()["player"])  # the other device is out
        self.assert_error(self.login(ApiClient()), 401, "bad_credentials")
        self.assertEqual(self.login(ApiClient(), password="battery staple 7").status_code, 200)

    @override_settings(LOGIN_MAX_FAILURES_PER_USERNAME=2)
    def test_a_malformed_password_change_is_a_400_and_no_failed_log_in(self):
        # Found describing the endpoint in openapi.json: a non-string or missing field was 403
        # wrong_password (counted against the account's log-ins) or 400 bad_password, not
        # the malformed body's 400.
        self.signup(self.ann)
        url = "/api/account/password"
        for body in ({"old_password": 5, "new_password": "battery staple 7"},
                     {"old_password": PASSWORD, "new_password": None},
                     {"old_password": PASSWORD}, {"new_password": "battery staple 7"}):  # fmt: skip
            with self.subTest(body):
                self.assert_error(self.ann.post(url, body), 400, "bad_request")
        self.assertEqual(self.login(ApiClient()).status_code, 200)  # not locked out


# A fast hasher: a burst must fit in the short windows of these tests (PBKDF2 takes ~0.3 s).
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class LoginLimitTests(ApiCase):
    def setUp(self):
        super().setUp()
        self.ann.post("/api/account/signup", {"username": "ann", "password": PASSWORD})

    def attempt(self, password: str, username: str = "ann", client: ApiClient | None = None):
        body = {"username": username, "password": password}
        return (client or ApiClient()).post("/api/account/login", body)

    @override_settings(LOGIN_MAX_FAILURES_PER_USERNAME=5, LOGIN_FAILURE_WINDOW_S=5)
    def test_a_burst_of_wrong_passwords_is_refused_and_the_right_one_works_after_the_window(self):
        codes = [self.attempt(f"guess {i}").status_code for i in range(8)]
        self.assertEqual(codes, [401] * 5 + [429] * 3)
        refused = self.attempt(PASSWORD)  # even the right one, during the window
        self.assert_error(refused, 429, "too_many_attempts")
        self.assertGreaterEqual(int(refused["Retry-After"]), 1)
        user_key, _ = store.login_failure_keys("ann", "127.0.0.1")
        self.assertEqual(store.client().get(user_key), b"5")  # refused tries are not counted
        time.sleep(store.client().pttl(user_key) / 1000 + 0.05)  # to the end of the window
        response = self.attempt(PASSWORD)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["player"]["account"], "ann")

    @override_settings(LOGIN_MAX_FAILURES_PER_USERNAME=100, LOGIN_MAX_FAILURES_PER_ADDRESS=4)
    def test_one_address_guessing_many_usernames_is_refused_too(self):
        codes = [self.attempt("x", username=f"user{i}").status_code for i in range(6)]
        self.assertEqual(codes, [401] * 4 + [429] * 2)
        self.assert_error(self.attempt(PASSWORD), 429, "too_many_attempts")

    @override_settings(LOGIN_MAX_FAILURES_PER_USERNAME=3)
    def test_the_username_count_is_case_blind_and_cleared_by_a_success(self):
        self.attempt("x", username="ANN")
        self.attempt("x", username="Ann")
        self.assertEqual(self.attempt(PASSWORD).status_code, 200)
        codes = [self.attempt("x").status_code for _ in range(4)]
        self.assertEqual(codes, [401, 401, 401, 429])


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                   SIGNUP_MAX_PER_ADDRESS=2)  # fmt: skip
class SignupLimitTests(ApiCase):
    def signup(self, username: str, address: str = "127.0.0.1"):
        client = ApiClient()
        client.http.defaults["REMOTE_ADDR"] = address
        return client.post("/api/account/signup", {"username": username, "password": PASSWORD})

    def test_one_address_making_accounts_is_refused_past_the_limit_and_others_are_not(self):
        self.assertEqual([self.signup(f"user{i}").status_code for i in range(2)], [200, 200])
        refused = self.signup("user2")
        self.assert_error(refused, 429, "too_many_signups")
        self.assertGreaterEqual(int(refused["Retry-After"]), 1)
        self.assertFalse(get_user_model().objects.filter(username="user2").exists())
        self.assertEqual(self.signup("user2", address="10.0.0.2").status_code, 200)

    def test_a_refused_sign_up_does_not_count(self):
        self.signup("taken")
        self.assertEqual(self.signup("taken").status_code, 409)  # username_taken: not counted
        self.assertEqual(self.signup("other").status_code, 200)


class AccountAdminTests(ApiCase):
    def test_staff_see_accounts_with_their_players_in_the_admin(self):
        self.ann.post("/api/account/signup", {"username": "ann", "password": PASSWORD})
        boss = get_user_model().objects.create_superuser("boss", password="pw-123-xyz")
        self.client.force_login(boss)
        listing = self.client.get("/admin/auth/user/?q=ann")
        self.assertContains(listing, "ann")
        user = get_user_model().objects.get(username="ann")
        page = self.client.get(f"/admin/auth/user/{user.pk}/change/")
        self.assertContains(page, 'value="ann"')  # the inline player's nickname
        with_accounts = self.client.get("/admin/matches/player/?user__isempty=0")
        self.assertContains(with_accounts, "ann")
