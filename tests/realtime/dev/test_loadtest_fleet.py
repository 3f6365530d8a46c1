"""The load tool's fleet when the lobby refuses it: counted, retried, never silent."""

import asyncio
import http.server
import threading

from django.test import SimpleTestCase

from realtime.dev.loadtest.client import Lobby
from realtime.dev.loadtest.fleet import Fleet


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.calls.append(self.path)
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"code": "busy"}}')

    def log_message(self, *args):
        pass


class FleetLobbyErrorTests(SimpleTestCase):
    def setUp(self):
        _Refusing.calls = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def test_a_refused_match_creation_is_counted_and_tried_again_until_stopped(self):
        async def scenario() -> Fleet:
            fleet = Fleet(base_url=self.base, title="pong", players=2, input_hz=10,
                          settings={}, index=0)  # fmt: skip
            playing = asyncio.create_task(fleet._play([Lobby(self.base), Lobby(self.base)]))
            await asyncio.sleep(1.5)
            fleet.stop.set()
            await asyncio.wait_for(playing, 5)  # returns: the refusal did not kill it
            return fleet

        fleet = asyncio.run(scenario())
        self.assertEqual(fleet.matches_started, 0)
        self.assertGreaterEqual(fleet.retired.errors.get("lobby_503", 0), 2)
        self.assertEqual(set(fleet.retired.errors), {"lobby_503"})
        self.assertEqual(set(_Refusing.calls), {"/api/matches"})

    def test_guests_the_lobby_will_not_sign_in_are_counted_and_given_up_on(self):
        async def scenario():
            fleet = Fleet(base_url=self.base, title="pong", players=2, input_hz=10,
                          settings={}, index=0)  # fmt: skip
            return fleet, await asyncio.wait_for(fleet._seat(), 15)

        fleet, seated = asyncio.run(scenario())
        self.assertIsNone(seated)
        # GET /api/csrf is not even served: 501 from http.server, five attempts
        self.assertEqual(fleet.retired.errors, {"lobby_501": 5})
