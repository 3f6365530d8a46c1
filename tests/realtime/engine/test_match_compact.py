"""The tick runner's compact frames: none until a socket asks, a keyframe then deltas, a
keyframe again on every ask and from every new runner; published beside the v1 text."""

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import SimpleTestCase

from matches.titles import get_title, wire
from realtime import groups, protocol, store
from realtime.engine.match import MatchRunner, Outcome
from tests.realtime.engine.test_match import running
from tests.support.stack import flush_redis


def ask_keyframe(match_id: int = 1) -> None:
    store.client().set(store.key(match_id, "keyframe"), 1, px=store.KEYFRAME_ASK_TTL_MS)


class CompactFrameTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def published(self, runner: MatchRunner, ticks: int) -> list[dict]:
        layer = get_channel_layer()

        async def listen():
            channel = await layer.new_channel()
            await layer.group_add(groups.group_name("t1"), channel)
            try:
                out = []
                for _ in range(ticks):
                    self.assertIs(runner.advance(), Outcome.CONTINUE)
                    out.append(await layer.receive(channel))
                return out
            finally:
                await layer.group_discard(groups.group_name("t1"), channel)

        return async_to_sync(listen)()

    def test_no_compact_frame_is_made_until_a_socket_asks_for_a_keyframe(self):
        runner = running()
        before = self.published(runner, 3)
        self.assertTrue(all("c" not in m for m in before))
        ask_keyframe()
        after = self.published(runner, 5)
        self.assertNotIn("c", after[0])  # the commit that took the ask
        self.assertEqual([m["kf"] for m in after[1:]], [True, False, False, False])
        self.assertFalse(store.client().exists(store.key(1, "keyframe")))

    def test_the_frames_decode_to_the_published_text_and_every_ask_brings_a_keyframe(self):
        runner = running()
        ask_keyframe()
        messages = self.published(runner, 4)
        ask_keyframe()
        messages += self.published(runner, 4)
        frames = [m for m in messages if "c" in m]
        # The commit that takes an ask still carries a delta; the keyframe is the tick after.
        self.assertEqual([m["kf"] for m in frames], [True, False, False, False, True, False, False])
        decoder = wire.Decoder(protocol.compact_schema(get_title("pong")))
        for m in frames:
            self.assertEqual(decoder.decode(m["c"]), json.loads(m["text"]))

    def test_a_new_runner_starts_without_frames_and_its_first_frame_is_a_keyframe(self):
        old = running()
        ask_keyframe()
        self.published(old, 3)
        old.release()
        new = MatchRunner(1)
        self.assertIs(new.acquire(), Outcome.CONTINUE)
        self.assertTrue(all("c" not in m for m in self.published(new, 2)))
        ask_keyframe()  # what a compact socket does when states come without frames
        frames = [m for m in self.published(new, 3) if "c" in m]
        self.assertTrue(frames[0]["kf"])
