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
