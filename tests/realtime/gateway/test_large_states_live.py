"""States larger than Daphne's websocket message cap on real processes: a v1 socket that joins
a running 64-ship Thrust Arena match (a v1 state of ~9.5 KB, over the 8 KiB cap that autobahn
also applies to what the server sends) gets its snapshot and the states after it instead of a
1011 close."""

import contextlib

from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import TransactionTestCase
from websockets.exceptions import ConnectionClosed

from tests.realtime.gateway.test_gateway_live import DAPHNE_ENV
from tests.support import stack
from tests.support.live import Client, signed_in


class LargeStatesLiveTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.services = stack.whole_stack("large", **DAPHNE_ENV)
        cls.daphne = cls.services[-1]

    @classmethod
    def tearDownClass(cls):
        stack.stop_all(cls.services)
        super().tearDownClass()

    def test_a_v1_socket_joining_a_64_ship_arena_gets_its_snapshot_and_states(self):
        async_to_sync(self._joins)()

    async def _joins(self):
        origin = self.daphne.origin
        (ann,) = signed_in(origin, "ann")
        arena = {"max_players": 64, "time_limit_s": 120}
        reply = ann.post(
            "/api/matches", {"title": "arena", "fill_with_bots": True, "settings": arena}
        )
        public_id = reply["match"]["id"]
        cap = settings.DAPHNE_MAX_MESSAGE_BYTES
        # A first socket sees the match run (states written straight to its transport).
        first = (await Client.open(origin, public_id, cookie=ann.cookie_header)).start()
        await first.until(lambda: len(first.states) > 10, 60, "states of the running match")
        self.assertGreater(max(len(raw) for *_, raw in first.states), cap)
        # One that joins now gets the snapshot (the ASGI send) of a state past the cap: a
        # spectator and the player again, each on a v1 socket.
        for cookie in ("", ann.cookie_header):
            late = (await Client.open(origin, public_id, cookie=cookie)).start()
            await late.until(lambda c=late: len(c.states) > 5 or c.task.done(), 30, "states")
            self.assertFalse(late.task.done(), f"closed: {late.ws.close_code}")
            self.assertGreater(len(late.states[0][2]), cap)
            ticks = [m["tick"] for _, m, _ in late.states]
            self.assertEqual(ticks, sorted(ticks))
            await late.close()
        with contextlib.suppress(ConnectionClosed):  # the player's first socket was replaced
            await first.close()
