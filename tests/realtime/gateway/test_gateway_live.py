"""The gateway on real processes: Daphne, Redis, a tick worker, beat and the default worker.

Browsers are played by HTTP with their own cookies (the lobby API) and the `websockets`
client, sending Origin and Cookie headers as a browser does (tests/support/live.py).
"""

import asyncio
import json
from itertools import pairwise

from asgiref.sync import async_to_sync
from django.test import TransactionTestCase
from websockets.exceptions import ConnectionClosed, InvalidStatus

from matches.models import Participation
from tests.support import stack
from tests.support.live import Browser, Client, tracker

DAPHNE_ENV = {
    "MATCH_COUNTDOWN_S": "0.3",
    "GATEWAY_PING_INTERVAL_S": "0.5",
    "GATEWAY_SLOW_CLIENT_S": "2",
}


def sticker(*, slot: int, wanted: int):
    """A player who holds one direction: asks again every 5 states until the state shows it
    (counted in states received, not ticks, so a busy machine's skipped ticks cannot starve it)."""
    received = {"n": 0}

    def policy(message: dict) -> dict | None:
        received["n"] += 1
        moving = message["state"]["paddles"][slot]["dir"] == wanted
        return None if moving or received["n"] % 5 != 1 else {"dir": wanted}

    return policy


class GatewayLiveTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stack.flush_redis()
        cls.services = [stack.tick_worker("ticks-gw"), stack.default_worker("default-gw"),
                        stack.beat("beat-gw")]  # fmt: skip
        stack.wait_ready(*cls.services[:2])
        cls.daphne = stack.daphne("daphne-gw", **DAPHNE_ENV)
        cls.services.append(cls.daphne)

    @classmethod
    def tearDownClass(cls):
        for service in cls.services:
            service.stop()
        super().tearDownClass()

    def setUp(self):
        self.origin = self.daphne.origin
        self.ann, self.bob = Browser(self.origin), Browser(self.origin)
        self.ann.post("/api/me", {"display_name": "ann"})
        self.bob.post("/api/me", {"display_name": "bob"})

    def new_match(self, **settings) -> str:
        reply = self.ann.post("/api/matches", {"title": "pong", "settings": settings})
        public_id = reply["match"]["id"]
        self.bob.post(f"/api/matches/{public_id}/join")
        return public_id

    async def open(self, public_id: str, browser: Browser | None = None, **kwargs) -> Client:
        cookie = browser.cookie_header if browser else ""
        return (await Client.open(self.origin, public_id, cookie=cookie, **kwargs)).start()

    def test_two_players_rally_the_score_changes_and_a_spectator_sees_the_same_ticks(self):
        async_to_sync(self._rally)()

    async def _rally(self):
        public_id = self.new_match(score_to=5)
        ann = await self.open(public_id, self.ann)
        bob = await self.open(public_id, self.bob)
        watcher = await self.open(public_id)
        stalled = await Client.open(self.origin, public_id, max_queue=1)  # never reads
        self.assertEqual((ann.welcome["role"], ann.welcome["slot"]), ("player", 0))
        self.assertEqual((bob.welcome["role"], bob.welcome["slot"]), ("player", 1))
        self.assertEqual(watcher.welcome["role"], "spectator")
        ann.policy = tracker(0)
        bob.policy = sticker(slot=1, wanted=-1)
        await ann.until(lambda: ann.last() and max(ann.last()["state"]["scores"]) > 0, 25,
                        "a point")  # fmt: skip
        self.assertEqual(sum(ann.last()["state"]["scores"]), 1)
        # Both players' inputs reached the runner and moved their paddles.
        for slot in (0, 1):
            self.assertTrue(any(m["state"]["paddles"][slot]["dir"] for _, m, _ in ann.states))
        # The spectator got the very same bytes for the same ticks.
        await asyncio.sleep(0.3)
        ann_ticks = {m["tick"]: raw for _, m, raw in ann.states}
        seen = {m["tick"]: raw for _, m, raw in watcher.states}
        common = ann_ticks.keys() & seen.keys()
        self.assertGreater(len(common), 0.9 * len(ann_ticks))
        self.assertTrue(all(ann_ticks[t] == seen[t] for t in common))
        # Under Daphne, states skip the ASGI send path (realtime/gateway/daphne.py).
        self.assertIn("written straight to Daphne's sockets", self.daphne.log())
        # A spectator's input is refused; the match goes on.
        await watcher.send_input({"dir": 1})
        await watcher.until(lambda: watcher.errors, 5, "an error")
        self.assertEqual(watcher.errors[0]["code"], "not_a_player")
        # The client that never read was cut off; the others were never held up meanwhile
        # (no gap; the rate itself depends on how busy the machine is, ~30 Hz when idle).
        await ann.until(lambda: "too_slow" in self.daphne.log(), 10, "the slow client cut off")
        arrivals = [at for at, _, _ in ann.states if at > ann.states[-1][0] - 2.0]
        self.assertLess(max(b - a for a, b in pairwise(arrivals)), 0.5)
        self.assertGreater(len(arrivals), 2.0 * 10)
        with self.assertRaises(ConnectionClosed):
            while True:
                await asyncio.wait_for(stalled.ws.recv(), 5)
        self.assertIn(stalled.ws.close_code, (4408, 1006))
        for client in (ann, bob, watcher):
            await client.close()

    def test_a_player_who_drops_resumes_in_the_same_slot(self):
        async_to_sync(self._drop_and_resume)()

    async def _drop_and_resume(self):
        public_id = self.new_match()
        ann = await self.open(public_id, self.ann)
        bob = await self.open(public_id, self.bob)
        await bob.until(lambda: len(bob.states) > 10, 15, "the match running")
        await ann.close()
        await bob.until(lambda: bob.last().get("paused") == [0], 5, "the match paused for ann")
        paused_at = bob.last()["tick"]
        ann = await self.open(public_id, self.ann)
        self.assertEqual((ann.welcome["role"], ann.welcome["slot"]), ("player", 0))
        await ann.until(lambda: ann.states, 5, "a snapshot")
        self.assertGreaterEqual(ann.states[0][1]["tick"], paused_at)
        await bob.until(lambda: bob.last()["tick"] > paused_at + 5, 5, "the match resumed")
        self.assertNotIn("paused", bob.last())
        connected = await asyncio.to_thread(
            lambda: list(Participation.objects.filter(match__public_id=public_id)
                         .order_by("slot").values_list("connected", flat=True))
        )  # fmt: skip
        self.assertEqual(connected, [True, True])
        await ann.close()
        await bob.close()

    def test_a_flood_is_cut_off_and_a_foreign_origin_is_refused(self):
        async_to_sync(self._flood_and_origin)()

    async def _flood_and_origin(self):
        public_id = self.new_match()
        with self.assertRaises(InvalidStatus) as refused:
            await Client.open(self.origin, public_id, send_origin="http://evil.example")
        self.assertEqual(refused.exception.response.status_code, 403)
        flooder = await Client.open(self.origin, public_id, cookie=self.ann.cookie_header)
        for t in range(400):
            await flooder.ws.send(json.dumps({"type": "ping", "t": t}))
        messages = []
        with self.assertRaises(ConnectionClosed):
            while True:
                messages.append(json.loads(await asyncio.wait_for(flooder.ws.recv(), 5)))
        self.assertEqual(flooder.ws.close_code, 4429)
        errors = [m for m in messages if m["type"] == "error"]
        self.assertEqual([e["code"] for e in errors], ["rate_limited"])
        self.assertLessEqual(sum(m["type"] == "pong" for m in messages), 130)
