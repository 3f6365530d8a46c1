import contextlib

from django.test import SimpleTestCase
from redis.exceptions import ResponseError

from realtime import store
from realtime.engine.pipeline import Call, Command, ScriptPipeline
from tests.support.stack import flush_redis

# Everything queued under KEYS[1], at most ARGV[1] items, taken at once.
TAKE = """
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then redis.call('LTRIM', KEYS[1], #items, -1) end
return items
"""


class ScriptPipelineTests(SimpleTestCase):
    def setUp(self):
        flush_redis()
        self.redis = store.client()
        self.take = self.redis.register_script(TAKE)
        self.pipe = ScriptPipeline(self.redis)

    def test_every_call_gets_its_own_result_in_order_from_one_pipeline(self):
        for i in range(12):
            self.redis.rpush(f"q{i}", f"item-{i}-a", f"item-{i}-b")
        results = self.pipe.run([Call(self.take, [f"q{i}"], [10]) for i in range(12)])
        self.assertEqual(results, [[f"item-{i}-a".encode(), f"item-{i}-b".encode()]
                                   for i in range(12)])  # fmt: skip
        self.assertEqual(self.pipe.sent, 1)

    def test_a_failing_call_gets_its_error_and_the_others_their_results(self):
        self.redis.set("not-a-list", "x")
        self.redis.rpush("fine", "y")
        bad, good = self.pipe.run(
            [Call(self.take, ["not-a-list"], [10]), Call(self.take, ["fine"], [10])]
        )
        self.assertIsInstance(bad, ResponseError)
        self.assertIn("WRONGTYPE", str(bad))
        self.assertEqual(good, [b"y"])

    def test_a_script_redis_forgot_is_loaded_again_and_run(self):
        self.redis.rpush("q", "z")
        self.redis.script_flush()
        self.assertEqual(self.pipe.run([Call(self.take, ["q"], [10])]), [[b"z"]])

    def test_a_connection_redis_closed_is_replaced_on_the_next_run(self):
        self.pipe.run([Call(self.take, ["q"], [10])])
        self.redis.client_kill_filter(_type="normal", skipme=True)
        # The next run may meet the closed socket once (which error depends on when the kill
        # lands); the one after reconnects.
        with contextlib.suppress(Exception):
            self.pipe.run([Call(self.take, ["q"], [10])])
        self.redis.rpush("q", "w")
        self.assertEqual(self.pipe.run([Call(self.take, ["q"], [10])]), [[b"w"]])

    def test_plain_commands_share_the_pipeline_with_script_calls(self):
        self.redis.rpush("q", "a", "b", "c")
        popped, missing, taken, bad = self.pipe.run([
            Command((b"LPOP", "q", 2)), Command((b"LPOP", "empty", 2)),
            Call(self.take, ["q"], [10]), Command((b"NOSUCHCOMMAND",)),
        ])  # fmt: skip
        self.assertEqual((popped, missing, taken), ([b"a", b"b"], None, [b"c"]))
        self.assertIsInstance(bad, ResponseError)
        self.assertEqual(self.pipe.sent, 1)

    def test_no_calls_send_nothing(self):
        self.assertEqual(self.pipe.run([]), [])
        self.assertEqual(self.pipe.sent, 0)

    def test_the_connection_speaks_resp2_so_no_push_message_can_pass_for_a_reply(self):
        # Client tracking on: on RESP3, Redis would push an invalidation onto this very
        # connection when another client changes the key read, and it would be read as the
        # next reply (PONG's place); on RESP2 nothing is pushed here.
        self.redis.set("tracked", "before")
        first = self.pipe.run([Command(("CLIENT", "TRACKING", "ON")), Command(("GET", "tracked"))])
        self.assertEqual(first, [b"OK", b"before"])
        self.redis.set("tracked", "after")
        self.assertEqual(self.pipe.run([Command(("PING",)), Command(("GET", "tracked"))]),
                         [b"PONG", b"after"])  # fmt: skip
        self.assertEqual(self.pipe._conn.get_protocol(), 2)
