import asyncio

import orjson
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import SimpleTestCase, override_settings

from realtime import figures, protocol, store
from realtime.dev import devredis
from realtime.gateway import stats
from realtime.gateway.hub import Hub, channel_of
from tests.support.blackhole import Blackhole
from tests.support.stack import flush_redis


def hub_reconnects_counted() -> int:
    field = store.RECONNECTS + "hub"
    flushed = store.client().hget(store.process_key(figures.process_name()), f"c:{field}")
    return int(flushed or 0) + stats.FIGURES.counters.get(field, 0)


class Member:
    def __init__(self) -> None:
        self.states: list[str] = []
        self.frames: list[bytes | None] = []
        self.packed: list = []
        self.others: list[dict] = []

    def deliver_now(self, text: str, frame: bytes, packed) -> bool:
        return False  # always the coroutine: it records what it got

    async def deliver_state(self, text: str, frame: bytes | None = None, packed=None) -> None:
        self.states.append(text)
        self.frames.append(frame)
        self.packed.append(packed)

    async def dispatch(self, message: dict) -> None:
        self.others.append(message)


async def publish(group: str, message: dict) -> None:
    await get_channel_layer().group_send(group, message)


async def eventually(predicate, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class HubTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_a_group_message_reaches_every_local_member_once_and_others_are_dispatched(self):
        async def scenario():
            hub = Hub()
            a, b, elsewhere = Member(), Member(), Member()
            await hub.join("match.x", a)
            await hub.join("match.x", b)
            await hub.join("match.y", elsewhere)
            await publish("match.x", {"type": "match.state", "text": '{"tick":1}'})
            await publish("match.x", {"type": "match.over", "text": "over"})
            await eventually(lambda: a.others and b.others)
            return a, b, elsewhere

        a, b, elsewhere = asyncio.run(scenario())
        self.assertEqual((a.states, b.states), (['{"tick":1}'], ['{"tick":1}']))
        # framed once, the same bytes for every member
        self.assertEqual(a.frames, [b'\x81\n{"tick":1}'])
        self.assertIs(a.frames[0], b.frames[0])
        self.assertEqual(a.others, [{"type": "match.over", "text": "over"}])
        self.assertEqual((elsewhere.states, elsewhere.others), ([], []))

    def test_a_tick_already_relayed_is_held_back_and_counted_unless_its_runner_repeats_it(self):
        async def scenario():
            hub = Hub()
            a = Member()
            await hub.join("match.w", a)
            # Runner 1 pauses at 12 (its tick repeats); runner 2, resumed two ticks behind on a
            # promoted replica, re-publishes 11 and 12 and pauses there too.
            for epoch, tick in ((1, 11), (1, 12), (1, 12), (2, 11), (2, 12), (2, 12), (2, 13)):
                text = protocol.state(tick=tick, snapshot={"n": tick})
                await publish("match.w", {"type": "match.state", "text": text, "epoch": epoch})
            await eventually(lambda: a.states and orjson.loads(a.states[-1])["tick"] == 13)
            return [orjson.loads(text)["tick"] for text in a.states]

        held_back = stats.FIGURES.counters.get("states_held_back", 0)
        self.assertEqual(asyncio.run(scenario()), [11, 12, 12, 12, 13])
        self.assertEqual(stats.FIGURES.counters.get("states_held_back", 0) - held_back, 2)

    def test_the_last_member_leaving_unsubscribes_the_process(self):
        async def scenario():
            hub = Hub()
            a = Member()
            await hub.join("match.z", a)
            subscribed = await store_numsub("match.z")
            await hub.leave("match.z", a)
            await eventually(lambda: not hub.members)
            await asyncio.sleep(0.1)
            return subscribed, await store_numsub("match.z")

        self.assertEqual(asyncio.run(scenario()), (1, 0))

    def test_after_a_redis_restart_the_hub_reconnects_and_resubscribes_by_itself(self):
        async def scenario():
            hub = Hub()
            a = Member()
            await hub.join("match.r", a)
            await asyncio.to_thread(devredis.restart, keep_data=True)
            store.client.cache_clear()
            await eventually(lambda: hub._connected.is_set(), timeout=10)
            await hub.join("match.r", a)  # returns once the subscription is confirmed again
            await publish("match.r", {"type": "match.state", "text": "after"})
            await eventually(lambda: a.states)
            return a.states

        self.assertEqual(asyncio.run(scenario()), ["after"])

    def test_a_refused_subscribe_is_a_lost_connection_retried_not_a_dead_hub(self):
        # Redis answers SUBSCRIBE with an error (here NOPERM from the ACL; LOADING after a
        # slow restart is the same reply): the hub logs it, reconnects and subscribes once
        # Redis accepts again.
        admin = store.client()
        admin.execute_command("ACL", "SETUSER", "default", "resetchannels")
        self.addCleanup(admin.execute_command, "ACL", "SETUSER", "default", "allchannels")

        async def scenario():
            hub = Hub()
            a = Member()
            with (
                self.assertLogs("realtime.gateway.hub", "WARNING") as logged,
                self.assertRaises(TimeoutError),
            ):
                await asyncio.wait_for(hub.join("match.p", a), timeout=1.5)
            self.assertFalse(hub._task.done())
            await asyncio.to_thread(
                admin.execute_command, "ACL", "SETUSER", "default", "allchannels"
            )
            await hub.join("match.p", a)
            await publish("match.p", {"type": "match.state", "text": "after"})
            await eventually(lambda: a.states, timeout=5)
            return logged.output, a.states

        output, states = asyncio.run(scenario())
        self.assertIn("NOPERM", output[0])
        self.assertEqual(states, ["after"])


async def store_numsub(group: str) -> int:
    def numsub() -> int:
        return store.client().pubsub_numsub(channel_of(group))[0][1]

    return await asyncio.to_thread(numsub)


class HalfOpenTests(SimpleTestCase):
    """The hub's connection black-holed (not closed) by a proxy: found dead and replaced."""

    def setUp(self):
        flush_redis()
        self.proxy = Blackhole(("127.0.0.1", settings.PRIVATE_REDIS_PORT))
        self.addCleanup(self.proxy.close)

    def test_a_silent_connection_is_replaced_within_the_dead_after_bound_and_counted(self):
        async def scenario():
            hub = Hub()
            a = Member()
            await hub.join("match.h", a)
            await publish("match.h", {"type": "match.state", "text": "before"})
            await eventually(lambda: a.states)
            self.assertEqual(self.proxy.freeze(), 1)  # new connections still go through
            frozen_at = asyncio.get_running_loop().time()
            while hub.reconnects == 0:
                await publish("match.h", {"type": "match.state", "text": "during"})
                await asyncio.sleep(0.05)
                self.assertLess(asyncio.get_running_loop().time() - frozen_at, 3)
            await hub.join("match.h", a)  # resubscribed
            await publish("match.h", {"type": "match.state", "text": "after"})
            await eventually(lambda: a.states[-1] == "after")
            return asyncio.get_running_loop().time() - frozen_at

        counted_before = hub_reconnects_counted()
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{self.proxy.port}/0",
                               REDIS_KEEPALIVE_S=0.3, REDIS_DEAD_AFTER_S=1.0):  # fmt: skip
            replaced_after = asyncio.run(scenario())
        self.assertGreaterEqual(replaced_after, 1.0)
        self.assertLess(replaced_after, 2.0)
        # Counted among this Daphne's figures (in memory, or added to its hash by a flush).
        self.assertEqual(hub_reconnects_counted() - counted_before, 1)
