"""The load tool's clients reconnect as the browser does: exponential backoff with full
jitter, reset by a welcome, and never after a close that says trying again cannot help."""

import asyncio
import http
import json
import random

from django.test import SimpleTestCase
from websockets.asyncio.server import serve

from realtime.dev.loadtest import backoff
from realtime.dev.loadtest.client import BotClient, Lobby

WELCOME = json.dumps({"type": "welcome", "v": 1, "role": "player", "slot": 0, "tick": 1})


class BackoffTests(SimpleTestCase):
    def test_the_ceiling_doubles_from_the_first_to_the_cap_and_a_reset_starts_it_again(self):
        b = backoff.Backoff(random.Random(1), first_s=0.25, max_s=8.0)
        ceilings = []
        for _ in range(8):
            ceilings.append(b.ceiling())
            b.next_delay()
        self.assertEqual(ceilings, [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0])
        b.reset()
        self.assertEqual(b.ceiling(), 0.25)

    def test_delays_are_drawn_from_zero_to_the_ceiling_not_around_it(self):
        b = backoff.Backoff(random.Random(2), first_s=8.0, max_s=8.0)
        delays = [b.next_delay() for _ in range(2000)]
        self.assertTrue(all(0 <= d <= 8.0 for d in delays))
        # Full jitter: a crowd is spread over the whole window, short waits included.
        self.assertGreater(sum(d < 1.0 for d in delays), 150)
        self.assertGreater(sum(d > 7.0 for d in delays), 150)

    def test_a_backoff_that_cannot_grow_is_refused(self):
        with self.assertRaises(ValueError):
            backoff.Backoff(random.Random(), first_s=0, max_s=1)
        with self.assertRaises(ValueError):
            backoff.Backoff(random.Random(), first_s=2, max_s=1)

    def test_the_final_closes_are_the_protocols(self):
        for code in (1000, 4404, 4409, 4410):
            self.assertTrue(backoff.is_final(code))
        for code in (None, 1001, 1006, 1011, 4408, 4429):
            self.assertFalse(backoff.is_final(code))


class BotReconnectTests(SimpleTestCase):
    def test_a_bot_reconnects_after_a_server_error_and_a_refused_handshake_until_replaced(self):
        """1st socket: welcome, then 1011; 2nd handshake: 429 (nginx's limit); 3rd socket:
        welcome, then 4409: another tab has the seat, so the bot stops."""
        handshakes = []

        async def process_request(connection, request):
            handshakes.append(request.path)
            if len(handshakes) == 2:
                return connection.respond(http.HTTPStatus.TOO_MANY_REQUESTS, "slow down\n")
            return None

        async def handler(ws):
            await ws.send(WELCOME)
            await ws.close(1011 if len(handshakes) == 1 else 4409)

        async def scenario():
            async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
                port = server.sockets[0].getsockname()[1]
                bot = BotClient(lobby=Lobby(f"http://127.0.0.1:{port}"), public_id="m1",
                                input_hz=0, seed=1)  # fmt: skip
                bot.backoff = backoff.Backoff(random.Random(3), first_s=0.02, max_s=0.05)
                await asyncio.wait_for(bot.run(asyncio.Event()), 10)
                return bot

        bot = asyncio.run(scenario())
        self.assertEqual(len(handshakes), 3)
        self.assertTrue(bot.closed.is_set())
        window = bot.take_window()
        self.assertEqual(window.reconnects, 2)
        self.assertEqual(window.closes, {"1011": 1, "4409": 1})
        self.assertEqual(window.errors, {"handshake_429": 1})
        self.assertEqual(bot.backoff.attempt, 0)  # the last welcome reset it

    def test_a_bot_told_to_stop_while_waiting_to_reconnect_stops_at_once(self):
        async def process_request(connection, request):
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "down\n")

        async def handler(ws):
            raise AssertionError("never reached")

        async def scenario():
            async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
                port = server.sockets[0].getsockname()[1]
                bot = BotClient(lobby=Lobby(f"http://127.0.0.1:{port}"), public_id="m1",
                                input_hz=0, seed=1)  # fmt: skip
                bot.backoff = backoff.Backoff(random.Random(4), first_s=30, max_s=30)
                bot.backoff.attempt = 5
                stop = asyncio.Event()
                task = asyncio.create_task(bot.run(stop))
                while not bot.window.errors:
                    await asyncio.sleep(0.01)
                stop.set()
                await asyncio.wait_for(task, 5)
                return bot

        bot = asyncio.run(scenario())
        # Stopped within 5 s of a wait of up to 30 s, with no attempt after the stop.
        refused = bot.window.errors["handshake_503"]
        self.assertEqual(bot.window.reconnects, refused - 1)
        self.assertTrue(bot.closed.is_set())
