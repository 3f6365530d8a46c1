"""Server pings, round-trip times and slow sockets: a socket that falls behind is conflated,
then cut off, and never holds up the others."""

import asyncio
import json

from channels.layers import get_channel_layer
from django.test import override_settings

from realtime import groups, store
from tests.realtime.gateway.test_consumer import GatewayCase
from tests.support.sockets import receive, receive_until_close


class LatencyAndBackpressureTests(GatewayCase):
    async def publish_states(self, count: int, every: float = 0.0) -> None:
        layer = get_channel_layer()
        for tick in range(1, count + 1):
            text = json.dumps({"type": "state", "v": 1, "tick": tick, "state": {}})
            await layer.group_send(groups.group_name(self.public_id),
                                   {"type": "match.state", "text": text})  # fmt: skip
            await asyncio.sleep(every)

    @override_settings(GATEWAY_PING_INTERVAL_S=0.05)
    async def test_a_server_ping_answered_records_the_round_trip_time_in_redis(self):
        comm, _ = await self.connect(self.bob_cookie)
        await asyncio.sleep(0.06)
        await self.publish_states(1)
        ping = await receive(comm, pings=True)
        self.assertEqual((ping["type"], ping["id"]), ("ping", 1))
        await comm.send_json_to({"type": "pong", "id": 1})
        rtt = None
        for _ in range(300):  # the pong is handled in the consumer's own time
            rtt = store.client().hget(store.key(self.match.pk, "rtt"), "1")
            if rtt is not None:
                break
            await asyncio.sleep(0.01)
        self.assertGreaterEqual(float(rtt), 0.0)
        self.assertLess(float(rtt), 1000.0)
        await comm.disconnect()

    @override_settings(GATEWAY_PING_INTERVAL_S=0.05, GATEWAY_SLOW_CLIENT_S=0.3)
    async def test_a_client_that_stops_reading_is_closed_4408_when_a_ping_goes_unanswered(self):
        stalled, _ = await self.connect(self.visitor_cookie)
        reader, _ = await self.connect(self.ann_cookie)

        async def read_and_answer_pings() -> list[int]:
            ticks = [0]
            while ticks[-1] < 30:
                message = await receive(reader, pings=True)
                if message["type"] == "ping":
                    await reader.send_json_to({"type": "pong", "id": message["id"]})
                else:
                    ticks.append(message["tick"])
            return ticks

        reading = asyncio.ensure_future(read_and_answer_pings())
        await self.publish_states(30, every=0.03)
        # The other socket answered its pings and kept up (a conflated tick may be missing).
        ticks = await reading
        self.assertEqual(ticks, sorted(set(ticks)))
        self.assertGreater(len(ticks), 25)
        seen = await receive_until_close(stalled)
        self.assertEqual((seen[-2]["code"], seen[-1]["code"]), ("too_slow", 4408))
        delivered = [m["tick"] for m in seen if m.get("type") == "state"]
        self.assertLess(len(delivered), 20)  # cut off after ~0.35 s of 0.9 s of ticks
        await stalled.disconnect()
        await reader.disconnect()
