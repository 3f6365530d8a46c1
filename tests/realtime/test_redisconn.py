import asyncio

from django.test import SimpleTestCase, override_settings

from realtime import redisconn
from tests.support.stack import free_port


class PrimaryAddressTests(SimpleTestCase):
    def test_sentinels_that_name_no_primary_raise_an_os_error_the_caller_retries_on(self):
        # Mid-failover (or no sentinel answering): what a refused connection raises too, so
        # the hub and the input pipe go on reconnecting instead of their task dying.
        nobody = override_settings(REDIS_SENTINELS=[("127.0.0.1", free_port())])
        with nobody, self.assertRaisesRegex(OSError, "no Redis primary"):
            asyncio.run(redisconn.primary_address())


class AsyncPoolTests(SimpleTestCase):
    """The gateway's client (realtime/gateway/relay.py) waits for a free connection: a
    thousand sockets of a restarted Daphne arrive together (tests/chaos/
    test_reconnect_stampede.py), past the pool's size."""

    CALLS = 8

    async def _together(self, client) -> list:
        key = "test:redisconn:nothing"  # an empty list: each BLPOP holds its connection 0.1 s
        try:
            calls = (client.blpop([key], timeout=0.1) for _ in range(self.CALLS))
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await client.aclose()

    def test_a_blocking_pool_serves_more_calls_than_connections_by_waiting(self):
        client = redisconn.async_client("test", blocking=True, max_connections=2, timeout=10)
        results = asyncio.run(self._together(client))
        self.assertEqual(results, [None] * self.CALLS)

    def test_a_plain_pool_of_the_same_size_fails_the_calls_beyond_it(self):
        client = redisconn.async_client("test", max_connections=2)
        results = asyncio.run(self._together(client))
        failed = [r for r in results if isinstance(r, Exception)]
        self.assertEqual(len(failed), self.CALLS - 2)
        self.assertIn("Too many connections", str(failed[0]))
