"""Fuzzing the lobby API in process: requests drawn by schemathesis's Hypothesis strategies
from realtime/lobby/openapi.json (valid and invalid by the document), half of them aimed at
rows that exist, some with a NUL or a lone surrogate put in a path, query or body string.

Every request gets a 2xx or a 4xx with the API's error body, never an exception or a 5xx,
and a 4xx creates no row. tests/realtime/lobby/test_openapi.py runs schemathesis itself
against a live Daphne (schemas of the replies, CSRF, the wire); this one is for volume, and
for every database the suite runs on: PostgreSQL refuses what SQLite takes (NUL in text).
"""

import copy
import json
import logging
import random
import re
from urllib.parse import quote, urlencode

import schemathesis
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, TestCase, override_settings
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from matches import services
from matches.models import Player
from realtime.lobby.api import OPENAPI
from tests.fuzz import budget
from tests.fuzz.strategies import EDGE_FLOATS, EDGE_INTS, EDGE_TEXT, seeds
from tests.support.replays import finished_with_replay
from tests.support.stack import flush_redis

DOCUMENT = json.loads(OPENAPI.read_text())
OPERATIONS = [
    result.ok() for result in schemathesis.openapi.from_dict(DOCUMENT).get_all_operations()
]
CODE = re.compile(r"[a-z][a-z_]*")
POISON = ("\x00", "a\x00", "\ud800", "x\udfff")
QUERY_NAMES = ("title", "from", "count", "page", "q", "")
BODY_NAMES = ("display_name", "title", "settings", "fill_with_bots", "join", "accept",
              "username", "password", "old_password", "new_password", "slot", "")  # fmt: skip
EDGE_VALUES = (*EDGE_TEXT, *EDGE_INTS[:12], *EDGE_FLOATS[:8], None, True, False, [], {},
               {"max_players": 10**400}, {"score_to": -1}, [1] * 50, "x" * 5000)  # fmt: skip
SHARE = 0.8  # of FUZZ_REQUESTS (test_ops has the rest)
AS_VISITOR = {"/api/account/signup", "/api/account/login", "/api/account/logout"}


def _strategy(op, mode):
    return op.as_strategy(generation_mode=mode).map(lambda case, op=op: (op, case))


CASES = st.one_of(*(_strategy(op, mode) for op in OPERATIONS
                    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)))  # fmt: skip


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _poisoned(draw, value):
    """``value`` with a NUL or a lone surrogate in one of its strings (or as it is)."""
    bad = draw(st.sampled_from(POISON))
    if isinstance(value, str):
        at = draw(st.integers(0, len(value)))
        return value[:at] + bad + value[at:]
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value, key=repr)))
        return {**value, key: _poisoned(draw, value[key])}
    if isinstance(value, dict):
        return {bad: bad}
    if isinstance(value, list) and value:
        return [_poisoned(draw, value[0]), *value[1:]]
    return bad


# The fuzzer is not testing password hashing: Django's slow default takes a second a hash here.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class ApiCase(TestCase):
    """A guest player's session (with a match of its own and finished ones it played), a
    visitor's and one logged in to an account; a waiting match, a replay, a leaderboard."""

    @classmethod
    def setUpTestData(cls):
        cls.replayed, _ = finished_with_replay()

    def setUp(self):
        flush_redis()
        # Thousands of 4xx warnings say nothing; a 5xx still logs at ERROR.
        quiet = logging.getLogger("django.request")
        self.addCleanup(quiet.setLevel, quiet.level)
        quiet.setLevel(logging.ERROR)
        self.player_client = Client(raise_request_exception=True)
        me = self.player_client.post("/api/me", {"display_name": "fuzz"}, "application/json")
        self.player = Player.objects.get(pk=me.json()["player"]["id"])
        mine = self.player_client.post("/api/matches", {"title": "pong"}, "application/json")
        self.visitor = Client(raise_request_exception=True)
        self.account = Client(raise_request_exception=True)
        self.account.post("/api/account/signup", {"username": "fuzzer", "password": "x" * 12},
                          "application/json")  # fmt: skip
        bob = services.player_create(display_name="bob")
        other = services.match_create(title="snake", fill_with_bots=False)
        services.match_join(match_id=other.pk, player=bob)
        self.real = {
            "public_id": [mine.json()["match"]["id"], other.public_id, self.replayed.public_id,
                          "nosuchmatch"],
            "player_id": [self.player.pk, bob.pk],
            "title": ["pong", "snake", "arena"],
        }  # fmt: skip
        self.counted = [m._meta.db_table for m in apps.get_app_config("matches").get_models()]
        self.counted.append(User._meta.db_table)

    def rows(self) -> tuple:
        sql = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})"
                        for t in self.counted)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {sql}")
            return cursor.fetchone()

    def client_for(self, path: str) -> Client:
        if path in AS_VISITOR:
            return self.visitor
        return self.account if path == "/api/account/password" else self.player_client

    def variants(self, op, case, draw, rng: random.Random) -> list[tuple[str, dict, object]]:
        """The drawn case, aimed at real rows half the time, then ``VARIANTS`` cheap variants
        of it from a seeded generator: an edge value in one place, a NUL or a surrogate."""
        params = dict(case.path_parameters or {})
        for name in params:
            if self.real.get(name) and draw(st.booleans()):
                params[name] = draw(st.sampled_from(self.real[name]))
        query = {_text(k): _text(v) for k, v in (case.query or {}).items()}
        body = case.body if not isinstance(case.body, schemathesis.core.NotSet) else None
        out = [(params, query, body)]
        for _ in range(budget.API_VARIANTS):
            p, q, b = dict(params), dict(query), copy.deepcopy(body)
            spot = rng.randint(0, 5)
            if spot == 0 and p:
                name = rng.choice(sorted(p))
                p[name] = rng.choice([*self.real.get(name, []), *EDGE_TEXT])
            elif spot == 1:
                q[rng.choice([*q, *QUERY_NAMES])] = rng.choice(EDGE_TEXT)
            elif spot == 2 and isinstance(b, dict) and b:
                b[rng.choice(sorted(b))] = rng.choice(EDGE_VALUES)
            elif spot == 3:
                b = (
                    rng.choice(EDGE_VALUES)
                    if rng.random() < 0.3
                    else {
                        **(b if isinstance(b, dict) else {}),
                        rng.choice(BODY_NAMES): rng.choice(EDGE_VALUES),
                    }
                )
            elif spot == 4 and p:
                name = rng.choice(sorted(p))
                p[name] = _poisoned(draw, _text(p[name]))
            else:
                q = _poisoned(draw, q) if rng.random() < 0.5 or not isinstance(b, dict) else q
                b = _poisoned(draw, b) if isinstance(b, dict) and q == query else b
            out.append((p, q, b))
        return out

    def request(self, op, params: dict, query: dict, body) -> tuple[str, dict]:
        """Send one request; returns what was sent and the outcome (``why`` if it failed)."""
        quoted = {k: quote(_text(v), safe="", errors="surrogatepass") for k, v in params.items()}
        path = op.path.format(**quoted)
        if query:
            # Encoded by hand: a lone surrogate goes as its "surrogatepass" bytes.
            pairs = [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
                     for k, v in query.items()]  # fmt: skip
            path += "?" + urlencode(pairs)
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
        sent = f"{op.method.upper()} {path} {data[:200]!r}"
        before = self.last_rows
        try:
            response = self.client_for(op.path).generic(
                op.method.upper(), path, data, content_type="application/json"
            )
        except Exception as exc:
            return sent, {"why": f"raised {type(exc).__name__}: {exc}"}
        finally:
            self.last_rows = self.rows()  # the next request's "before"
        status = response.status_code
        if status >= 500:
            return sent, {"why": f"{status}"}
        if 400 <= status < 500:
            try:
                reply = response.json()
            except ValueError:
                return sent, {"why": f"{status} is not JSON"}
            if not (isinstance(reply, dict) and set(reply) == {"error", "reason"}
                    and CODE.fullmatch(str(reply["error"])) and reply["reason"]):  # fmt: skip
                return sent, {"why": f"{status} without the error body: {reply!r}"[:300]}
            if self.last_rows != before:
                return sent, {"why": f"{status} {reply['error']} created rows"}
        return sent, {"status": status}


class LobbyApiFuzzTests(ApiCase):
    def test_every_request_gets_a_2xx_or_a_4xx_with_the_error_body_and_a_4xx_adds_no_row(self):
        tally, statuses = budget.Tally("api (lobby, in process)"), {}

        self.last_rows = self.rows()

        @given(CASES, st.data(), seeds)
        @budget.examples(round(budget.REQUESTS * SHARE / (1 + budget.API_VARIANTS)))
        def run(op_case, data, rng):
            op, case = op_case
            for params, query, body in self.variants(op, case, data.draw, rng):
                tally.cases += 1
                sent, outcome = self.request(op, params, query, body)
                if "why" in outcome:
                    tally.fail(sent, outcome["why"])
                    raise AssertionError(f"{sent}: {outcome['why']}")
                statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1

        try:
            run()
        finally:
            tally.record(statuses={str(k): v for k, v in sorted(statuses.items())})
        self.assertEqual(tally.failures, 0)
        self.assertGreater(sum(v for k, v in statuses.items() if k < 300), 0)


class FoundByTheFuzzerTests(ApiCase):
    def test_a_nul_or_a_lone_surrogate_anywhere_is_a_400_on_every_database(self):
        public_id = self.real["public_id"][0]
        cases = [
            ("GET", f"/api/matches/{quote(public_id)}%00", b""),
            ("GET", "/api/matches?title=pong%00", b""),
            ("GET", "/api/leaderboard/pong%00", b""),
            ("GET", f"/api/matches/{quote(public_id)}/replay?from=%00", b""),
            ("POST", "/api/me", b'{"display_name": "a\\u0000b"}'),
            ("POST", "/api/me", b'{"display_name": "a\\ud800b"}'),
            ("POST", "/api/matches", b'{"title": "pong", "settings": {"\\u0000": 1}}'),
            ("POST", "/api/quickplay", b'{"title": "pong\\u0000"}'),
        ]
        for method, path, body in cases:
            with self.subTest(f"{method} {path} {body!r}"):
                before = self.rows()
                response = self.player_client.generic(method, path, body, "application/json")
                self.assertEqual(response.status_code, 400, response.content)
                self.assertEqual(response.json()["error"], "bad_request")
                self.assertEqual(self.rows(), before)
        response = self.visitor.post("/api/account/signup", {"username": "nul\x00", "password":
                                     "x" * 12}, "application/json")  # fmt: skip
        self.assertEqual(response.status_code, 400)
