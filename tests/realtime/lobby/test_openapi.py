"""The OpenAPI document of the lobby API (realtime/lobby/openapi.json) stays true: it lists
exactly the routes under /api/ and their methods, and schemathesis, run against a live
Daphne with a real session, finds no 5xx, no reply outside the document's schemas and no
4xx without the API's error body."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.test import Client, SimpleTestCase, TestCase, TransactionTestCase
from django.urls import URLPattern, URLResolver, get_resolver

from matches import services
from matches.models import Match, Player
from realtime.lobby.api import OPENAPI
from tests.support import stack
from tests.support.live import Browser
from tests.support.replays import finished_with_replay

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = json.loads(OPENAPI.read_text())
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def api_routes() -> dict[str, object]:
    """Every URL pattern under /api/ as an OpenAPI path (``/api/matches/{public_id}``)."""
    found = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                found["/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)] = pattern.callback

    walk(get_resolver().url_patterns, "")
    return found


class DocumentTests(SimpleTestCase):
    def test_every_route_under_api_is_in_the_document_and_every_path_is_a_route(self):
        self.assertEqual(sorted(api_routes()), sorted(DOCUMENT["paths"]))

    def test_each_path_lists_exactly_the_methods_its_view_takes(self):
        for path, view in api_routes().items():
            with self.subTest(path):
                documented = {m.upper() for m in DOCUMENT["paths"][path] if m in HTTP_METHODS}
                self.assertEqual(documented, set(view.methods))

    def test_every_reference_resolves_and_every_error_reply_is_the_error_schema(self):
        def resolve(ref: str):
            node = DOCUMENT
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]
            return node

        def refs(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    yield node["$ref"]
                for value in node.values():
                    yield from refs(value)
            elif isinstance(node, list):
                for value in node:
                    yield from refs(value)

        for ref in set(refs(DOCUMENT)):
            resolve(ref)
        for path, item in DOCUMENT["paths"].items():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                for status, reply in operation["responses"].items():
                    if status.startswith("4"):
                        reply = resolve(reply["$ref"]) if "$ref" in reply else reply
                        schema = reply["content"]["application/json"]["schema"]
                        self.assertEqual(schema, {"$ref": "#/components/schemas/Error"},
                                         f"{method} {path} {status}")  # fmt: skip


class ServedTests(TestCase):
    def test_the_app_serves_the_document(self):
        response = Client().get("/api/openapi.json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertEqual(response.json(), DOCUMENT)

    def test_a_path_under_api_no_route_takes_is_a_json_404(self):
        # Found by schemathesis: /api/players/-1 (no route: the id is <int:>) was Django's
        # HTML page, not the API's error body.
        for path in ("/api/players/-1", "/api/nothing", "/api/matches/a/b/c"):
            with self.subTest(path):
                response = Client().get(path)
                self.assertEqual(response.status_code, 404)
                self.assertEqual(response.json()["error"], "not_found")

    def test_pages_outside_api_keep_django_s_404(self):
        response = Client().get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertNotEqual(response["Content-Type"], "application/json")


def finished(players: list[Player], *, bots: bool = False) -> str:
    """A finished Pong match of ``players`` (bots in the empty seats if asked): its public id."""
    match = services.match_create(title="pong", fill_with_bots=bots)
    for who in players:
        services.match_join(match_id=match.pk, player=who)
    if bots:
        services.match_start(match_id=match.pk)
    services.match_begin(match_id=match.pk)
    seats = match.participations.count()
    result = {"scores": [3] + [1] * (seats - 1), "winner": 0, "ranking": list(range(seats))}
    return services.match_finish(match_id=match.pk, result=result).public_id


# Bounded: examples, then this many generated cases per operation and mode, on 2 shared cores.
MAX_EXAMPLES = 25
CHECKS = ",".join((
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "unsupported_method", "negative_data_rejection",
    "error_body",  # tests/support/schemathesis_hooks.py
))  # fmt: skip


class SchemathesisTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.daphne = stack.daphne("daphne-openapi")
        self.addCleanup(self.daphne.stop)

    def test_schemathesis_finds_nothing_against_the_live_server(self):
        # A session with a player, as a browser has after picking a nickname; a visitor's
        # (the CSRF cookie only) for sign-up, log-in and log-out; one logged in to an account
        # (with the password of the document's examples) for the password change.
        me = Browser(self.daphne.origin)
        player = me.post("/api/me", {"display_name": "fuzz"})["player"]
        visitor = Browser(self.daphne.origin)
        visitor.request("GET", "/api/csrf")
        account = Browser(self.daphne.origin)
        account.post("/api/account/signup", {"username": "fuzzer", "password": "correct horse 42"})
        sessions = {
            name: {"cookies": b.cookies, "csrf": b.cookies["csrftoken"]}
            for name, b in (("player", me), ("visitor", visitor), ("account", account))
        }
        # Rows for the fuzzer's path parameters: a match the session sits in and one it may
        # join, a finished match with its replay, finished matches the session played
        # (rematch: with another human, and alone against bots); and for the start only, a
        # match the session hosts, with a second player seated, that no leave empties first.
        mine = me.post("/api/matches", {"title": "pong"})["match"]["id"]
        other = services.match_create(title="snake", fill_with_bots=False).public_id
        replayed, _ = finished_with_replay()
        fuzz = Player.objects.get(pk=player["id"])
        bob = services.player_create(display_name="bob")
        to_start = me.post("/api/matches", {"title": "snake", "settings": {"max_players": 4}})
        to_start = to_start["match"]["id"]
        services.match_join(match_id=Match.objects.get(public_id=to_start).pk, player=bob)
        with_bob = finished([fuzz, bob])
        with_bots = finished([fuzz], bots=True)
        start_only = {"/api/matches/{public_id}/start": {"public_id": [to_start]}}
        ids = {"public_id": [mine, other, replayed.public_id, with_bob, with_bots],
               "player_id": [player["id"]], "title": ["pong", "snake"],
               "by_path": start_only}  # fmt: skip
        argv = [
            str(Path(sys.executable).parent / "st"), "run",
            f"{self.daphne.origin}/api/openapi.json",
            "--checks", CHECKS, "--mode", "all", "--phases", "examples,fuzzing",
            "--max-examples", str(MAX_EXAMPLES), "--seed", "17", "--workers", "1",
            "--generation-database", "none", "--generation-with-security-parameters", "false",
            "--request-timeout", "10", "--no-color",
        ]  # fmt: skip
        # The hooks send each operation's session (Cookie and X-CSRFToken headers).
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
               "ARCADE_SCHEMATHESIS_IDS": json.dumps(ids),
               "ARCADE_SCHEMATHESIS_SESSIONS": json.dumps(sessions),
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        started = time.monotonic()
        # Its own working directory: schemathesis keeps a cache (.schemathesis/) where it runs.
        with tempfile.TemporaryDirectory() as tmp:
            run = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True,
                                 timeout=300)  # fmt: skip
        took = time.monotonic() - started
        report = run.stdout[-6000:] + run.stderr[-2000:]
        self.assertEqual(run.returncode, 0, report)
        # It tested every operation but the document's own (loaded from there, it is left out).
        operations = sum(len(set(item) & HTTP_METHODS) for item in DOCUMENT["paths"].values())
        self.assertIn(f"Tested: {operations - 1}\n", run.stdout, report)
        self.assertRegex(run.stdout, r"\d+ generated, \d+ passed", report)
        self.assertLess(took, 240, f"schemathesis took {took:.0f} s")
