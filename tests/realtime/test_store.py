"""What the tick worker's state hash gives back (realtime/store.py, load_state)."""

import json

from django.test import SimpleTestCase

from realtime import protocol, store
from tests.support.matches import redis_match
from tests.support.stack import flush_redis


class LoadStateTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_a_new_match_has_nothing_acknowledged(self):
        redis_match(1, title="snake", players=3)
        self.assertEqual(store.load_state(1)["acks"], [0, 0, 0])

    def test_acks_kept_by_an_earlier_release_are_read_from_its_snapshot_text(self):
        redis_match(1)
        r = store.client()
        r.hdel(store.key(1, "state"), "acks")
        r.hset(store.key(1, "state"), "snapshot",
               protocol.state(tick=5, snapshot={}, acks=[6, 2]))  # fmt: skip
        self.assertEqual(store.load_state(1)["acks"], [6, 2])

    def test_no_acks_anywhere_read_as_none_acknowledged(self):
        redis_match(1)
        r = store.client()
        r.hdel(store.key(1, "state"), "acks", "snapshot")
        self.assertEqual(store.load_state(1)["acks"], [])
        self.assertEqual(json.loads(r.hget(store.key(1, "state"), "state"))["tick"], 0)
