import asyncio

import redis.asyncio as aioredis
from django.conf import settings
from django.test import SimpleTestCase, override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from realtime.dev import devredis
from realtime.gateway.inputpipe import Pipe
from tests.support.blackhole import Blackhole
from tests.support.stack import flush_redis

PUSH = "redis.call('RPUSH', KEYS[1], ARGV[1]); return redis.call('LLEN', KEYS[1])"


async def connected_pipe():
    """A client, the PUSH script and a pipe that has made its first call ("first" pushed on
    "q"; the fallback loads the script if Redis does not know it yet)."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    script = client.register_script(PUSH)
    pipe = Pipe()
    await pipe.call(script, keys=["q"], args=["first"],
                    fallback=lambda: script(keys=["q"], args=["first"]))  # fmt: skip
    return client, script, pipe


class PipeTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_concurrent_calls_each_get_their_reply_in_order_and_the_writes_land(self):
        async def scenario():
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            script = client.register_script(PUSH)
            await script(keys=["warm"], args=["x"])  # loaded: no NOSCRIPT below
            pipe = Pipe()
            calls = [
                pipe.call(script, keys=["q"], args=[f"v{i}"], fallback=None) for i in range(50)
            ]
            replies = await asyncio.gather(*calls)
            stored = await client.lrange("q", 0, -1)
            pipe.close()
            await client.aclose()
            return replies, stored

        replies, stored = asyncio.run(scenario())
        self.assertEqual(replies, list(range(1, 51)))
        self.assertEqual(stored, [f"v{i}".encode() for i in range(50)])

    def test_calls_made_in_one_turn_of_the_loop_go_to_redis_in_one_write(self):
        async def scenario():
            client, script, pipe = await connected_pipe()
            transport = pipe._protocol.transport
            writes = []
            real_write = transport.write
            transport.write = lambda data: (writes.append(data), real_write(data))[1]
            replies = await asyncio.gather(
                *(pipe.call(script, keys=["q"], args=[f"v{i}"], fallback=None) for i in range(20))
            )
            pipe.close()
            await client.aclose()
            return replies, writes

        replies, writes = asyncio.run(scenario())
        self.assertEqual(replies, list(range(2, 22)))
        self.assertEqual(len(writes), 1)
        self.assertEqual(writes[0].count(b"EVALSHA"), 20)

    def test_a_script_redis_does_not_know_goes_through_the_fallback_which_loads_it(self):
        async def scenario():
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            await client.script_flush()
            script = client.register_script(PUSH)
            pipe = Pipe()
            used = []

            async def fallback():
                used.append(True)
                return await script(keys=["q"], args=["a"])

            first = await pipe.call(script, keys=["q"], args=["a"], fallback=fallback)
            second = await pipe.call(script, keys=["q"], args=["b"], fallback=fallback)
            pipe.close()
            await client.aclose()
            return first, second, used

        self.assertEqual(asyncio.run(scenario()), (1, 2, [True]))

    def test_an_error_reply_raises_in_its_caller(self):
        async def scenario():
            client = aioredis.Redis.from_url(settings.REDIS_URL)
            await client.set("q", "not a list")
            script = client.register_script(PUSH)
            await script(keys=["warm"], args=["x"])
            pipe = Pipe()
            try:
                await pipe.call(script, keys=["q"], args=["a"], fallback=None)
            finally:
                pipe.close()
                await client.aclose()

        with self.assertRaisesRegex(ResponseError, "WRONGTYPE"):
            asyncio.run(scenario())

    def test_after_a_redis_restart_the_pipe_reconnects_by_itself(self):
        async def scenario():
            client, script, pipe = await connected_pipe()
            await asyncio.to_thread(devredis.restart, keep_data=False)
            failures = 0
            for _ in range(3):  # the first call may meet the dead connection: it raises
                try:
                    await pipe.call(script, keys=["q"], args=["b"], fallback=lambda: script(
                        keys=["q"], args=["b"]))  # fmt: skip
                except RedisConnectionError:
                    failures += 1
                else:
                    break
            stored = await client.lrange("q", 0, -1)
            pipe.close()
            await client.aclose()
            return stored, failures

        stored, failures = asyncio.run(scenario())
        self.assertEqual(stored, [b"b"])
        self.assertLessEqual(failures, 1)


class HalfOpenTests(SimpleTestCase):
    def setUp(self):
        flush_redis()
        self.proxy = Blackhole(("127.0.0.1", settings.PRIVATE_REDIS_PORT))
        self.addCleanup(self.proxy.close)

    def test_a_call_on_a_black_holed_connection_fails_within_the_bound_and_the_next_reconnects(
        self,
    ):
        async def scenario():
            client, script, pipe = await connected_pipe()
            self.proxy.freeze()  # the pipe's connection and the client's
            loop = asyncio.get_running_loop()
            started = loop.time()
            with self.assertRaises(RedisConnectionError):
                await pipe.call(script, keys=["q"], args=["lost"], fallback=None)
            failed_after = loop.time() - started
            reply = await pipe.call(script, keys=["q"], args=["second"], fallback=None)
            pipe.close()
            await client.aclose()
            return failed_after, reply, pipe.reconnects

        with override_settings(REDIS_URL=f"redis://127.0.0.1:{self.proxy.port}/0",
                               REDIS_KEEPALIVE_S=0.3, REDIS_DEAD_AFTER_S=1.0):  # fmt: skip
            failed_after, reply, reconnects = asyncio.run(scenario())
        self.assertLess(failed_after, 1.5)
        self.assertEqual((reply, reconnects), (2, 1))  # "lost" never reached Redis
