"""Compact state frames on real processes (Daphne, Redis, a tick worker, beat, the default
worker): a compact socket and a v1 socket on the same match see the same states, a joiner
gets a keyframe before any delta, and a client that lost a frame recovers with a resync."""

import asyncio

from asgiref.sync import async_to_sync
from django.test import TransactionTestCase

from tests.realtime.gateway.test_gateway_live import DAPHNE_ENV
from tests.support import stack
from tests.support.live import Browser, Client, signed_in, tracker


class CompactLiveTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.services = stack.whole_stack("wire", **DAPHNE_ENV)
        cls.daphne = cls.services[-1]

    @classmethod
    def tearDownClass(cls):
        stack.stop_all(cls.services)
        super().tearDownClass()

    def setUp(self):
        self.origin = self.daphne.origin
        self.ann, self.bob = signed_in(self.origin, "ann", "bob")
        reply = self.ann.post("/api/matches", {"title": "pong", "settings": {"score_to": 11}})
        self.public_id = reply["match"]["id"]
        self.bob.post(f"/api/matches/{self.public_id}/join")

    async def open(self, browser: Browser | None = None, **kwargs) -> Client:
        cookie = browser.cookie_header if browser else ""
        return (await Client.open(self.origin, self.public_id, cookie=cookie, **kwargs)).start()

    def test_a_compact_and_a_v1_client_on_one_match_see_the_same_states(self):
        async_to_sync(self._same_states)()

    async def _same_states(self):
        ann = await self.open(self.ann, encoding="compact")
        bob = await self.open(self.bob)
        self.assertEqual(ann.welcome["encoding"], "compact")
        self.assertEqual(bob.welcome["encoding"], "v1")
        ann.policy, bob.policy = tracker(0), tracker(1)

        def both_moved() -> bool:
            states = [m["state"] for _, m, _ in ann.states]
            return all(any(s["paddles"][slot]["dir"] for s in states) for slot in (0, 1))

        # The first serve comes at tick 45, maybe nearly level: the paddles follow it later.
        await ann.until(lambda: len(ann.frames) > 90 and both_moved(), 30, "both paddles moving")
        self.assertTrue(ann.frames[0][0], "the first compact frame is a keyframe")
        await asyncio.sleep(0.3)
        compact = {m["tick"]: m for _, m, raw in ann.states if isinstance(raw, bytes)}
        v1 = {m["tick"]: m for _, m, _ in bob.states}
        common = compact.keys() & v1.keys()
        self.assertGreater(len(common), 0.9 * len(compact))
        for tick in common:
            self.assertEqual(compact[tick], v1[tick])
        # Both played: the compact client's inputs work as the v1 client's do.
        for slot in (0, 1):
            self.assertTrue(any(m["state"]["paddles"][slot]["dir"] for m in compact.values()))
        deltas = [size for key, size in ann.frames if not key]
        v1_sizes = [len(raw) for _, m, raw in bob.states if m["tick"] in common]
        self.assertLess(sum(deltas) / len(deltas) * 5, sum(v1_sizes) / len(v1_sizes))
        # A live spectator (stack.daphne: no delay) who joins late starts from a keyframe.
        late = await self.open(encoding="compact")
        self.assertEqual(late.welcome["encoding"], "compact")
        await late.until(lambda: len(late.frames) > 3, 10, "frames for the late spectator")
        self.assertTrue(late.frames[0][0])
        self.assertTrue(all(isinstance(raw, bytes) for _, _, raw in late.states))
        for client in (ann, bob, late):
            await client.close()

    def test_a_client_that_loses_a_frame_asks_for_a_keyframe_and_recovers(self):
        async_to_sync(self._recovers)()

    async def _recovers(self):
        ann = await self.open(self.ann, encoding="compact")
        bob = await self.open(self.bob)
        ann.policy, bob.policy = tracker(0), tracker(1)
        await ann.until(lambda: len(ann.states) > 20, 30, "states")
        ann.drop_next = 1  # as if the frame was lost: the next delta cannot apply
        lost_at = len(ann.frames)
        await ann.until(lambda: ann.resyncs == 1, 10, "a resync")
        await ann.until(lambda: any(k for k, _ in ann.frames[lost_at + 1 :]), 5, "a keyframe")
        decoded = len(ann.states)
        await ann.until(lambda: len(ann.states) > decoded + 20, 10, "states after the keyframe")
        self.assertEqual(ann.resyncs, 1)
        await asyncio.sleep(0.3)
        v1 = {m["tick"]: m for _, m, _ in bob.states}
        after = [m for _, m, _ in ann.states[decoded:] if m["tick"] in v1]
        self.assertGreater(len(after), 15)
        self.assertTrue(all(v1[m["tick"]] == m for m in after))
        for client in (ann, bob):
            await client.close()

    def test_bad_encodings_and_resyncs_get_clear_errors(self):
        async_to_sync(self._errors)()

    async def _errors(self):
        odd = await self.open(self.ann, encoding="zstd")
        self.assertEqual(odd.welcome["encoding"], "v1")
        await odd.until(lambda: odd.errors, 5, "an error")
        self.assertEqual(odd.errors[0]["code"], "bad_encoding")
        await odd.ws.send('{"type": "resync", "v": 1}')
        await odd.until(lambda: len(odd.errors) > 1, 5, "a second error")
        self.assertEqual(odd.errors[1]["code"], "not_compact")
        await odd.close()
        ann = await self.open(self.ann, encoding="compact")
        await ann.ws.send('{"type": "resync", "v": 1}')
        await ann.ws.send('{"type": "resync", "v": 1}')
        await ann.until(lambda: ann.errors, 5, "an error")
        self.assertEqual(ann.errors[0]["code"], "resync_too_soon")
        await ann.close()
