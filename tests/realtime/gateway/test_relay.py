"""The gateway's Redis client against a real Redis, with more sockets at once than its pool
has connections."""

import asyncio

from django.test import SimpleTestCase

from realtime.gateway import relay
from realtime.gateway.seats import PLAYER, Seat
from tests.support.stack import flush_redis


def seat(match_id: int) -> Seat:
    return Seat(match_id=match_id, public_id=f"m{match_id}", title="pong", status="running",
                role=PLAYER, slot=0)  # fmt: skip


class PoolTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_more_calls_at_once_than_connections_wait_for_one_instead_of_failing(self):
        # The soak's 200 players closing at once: release_slot raised "Too many connections"
        # past redis-py's pool of 100, the slots stayed held and each disconnect logged a
        # traceback. The pool is sized for a Daphne's sockets now; more calls than that wait.
        async def scenario():
            seats = [seat(n) for n in range(1200)]
            await asyncio.gather(*(relay.claim_slot(seat=s, channel=f"c{s.match_id}")
                                   for s in seats))  # fmt: skip
            released = await asyncio.gather(*(
                relay.release_slot(seat=s, channel=f"c{s.match_id}") for s in seats
            ))  # fmt: skip
            pool = relay._redis().client.connection_pool
            return released, pool.max_connections

        released, size = asyncio.run(scenario())
        self.assertEqual(size, 1000)
        self.assertEqual(released, [True] * 1200)
