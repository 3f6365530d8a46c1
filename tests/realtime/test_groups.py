"""The match groups' wire format as the snapshot keeps it (realtime/groups.py)."""

import json

from django.test import SimpleTestCase

from matches.titles import get_title
from realtime import groups, protocol


class SnapshotTests(SimpleTestCase):
    def test_a_kept_state_message_gives_back_its_text(self):
        text = protocol.state(tick=9, snapshot={"x": 1}, acks=[3, 0])
        stored = groups.serialize(groups.STATE, text, (b"\x01\x02", True), epoch=4)
        self.assertEqual(groups.snapshot_text(stored), text)

    def test_a_snapshot_kept_as_plain_text_by_an_earlier_release_is_read_as_it_is(self):
        text = protocol.state(tick=9, snapshot={"x": 1}, acks=[3, 0])
        self.assertEqual(groups.snapshot_text(text.encode()), text)

    def test_the_first_snapshot_is_tick_zero_with_nothing_acknowledged(self):
        pong = get_title("pong")
        state = pong.initial_state(players=2, seed=1, settings=pong.validate_settings({}))
        stored = groups.first_snapshot(title=pong, state=state, players=2)
        self.assertEqual(groups.deserialize(stored)["type"], groups.STATE)
        body = json.loads(groups.snapshot_text(stored))
        self.assertEqual((body["type"], body["tick"], body["acks"]), ("state", 0, [0, 0]))
        self.assertEqual(body["state"], json.loads(protocol.dumps(pong.snapshot(state))))
