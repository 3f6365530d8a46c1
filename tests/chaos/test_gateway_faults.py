"""The websocket gateway under faults and abuse, on real processes: Daphne killed and
restarted under its players, hostile clients, and a client that stops reading.

Players are real sessions made through the lobby API over HTTP (tests/support/live.py).
"""

import asyncio
import signal
import time
from itertools import pairwise

from asgiref.sync import async_to_sync
from django.test import TransactionTestCase
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from matches.models import Match
from realtime import state as store
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.live import Browser, Client

DAPHNE_ENV = {
    "MATCH_COUNTDOWN_S": "0.3",
    "GATEWAY_PING_INTERVAL_S": "0.5",
    "GATEWAY_SLOW_CLIENT_S": "2",
}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


def gaps_ms(client: Client, since: float, until: float) -> list[float]:
    arrivals = [at for at, _, _ in client.states if since <= at <= until]
    return [(b - a) * 1000 for a, b in pairwise(arrivals)]


def sockets_of(match_id: int) -> dict[int, str]:
    raw = store.client().hgetall(store.key(match_id, "sockets"))
    return {int(k): v.decode() for k, v in raw.items()}


class GatewayFaultTests(TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stack.flush_redis()
        workers = [stack.tick_worker("ticks-gf"), stack.default_worker("default-gf")]
        cls.services = [*workers, stack.beat("beat-gf")]
        stack.wait_ready(*workers)

    @classmethod
    def tearDownClass(cls):
        for service in cls.services:
            service.stop()
        super().tearDownClass()

    def setUp(self):
        self.daphnes: list[stack.Service] = []

    def tearDown(self):
        for service in self.daphnes:
            service.stop()

    def start_daphne(self, name: str, **kwargs) -> stack.Service:
        service = stack.daphne(name, **{**DAPHNE_ENV, **kwargs})
        self.daphnes.append(service)
        return service

    def players(self, origin: str, *names: str) -> list[Browser]:
        browsers = []
        for name in names:
            browser = Browser(origin)
            browser.post("/api/me", {"display_name": name})
            browsers.append(browser)
        return browsers

    def pong(self, host: Browser, guest: Browser) -> tuple[str, int]:
        """A two-player Pong match made through the lobby API: its public id and pk."""
        public_id = host.post("/api/matches", {"title": "pong"})["match"]["id"]
        guest.post(f"/api/matches/{public_id}/join")
        return public_id, Match.objects.get(public_id=public_id).pk

    # --- 1. Daphne killed and restarted on the same port -----------------------------------

    @scenario("daphne_restart")
    def test_players_reconnect_to_a_restarted_daphne_and_keep_their_slots(self):
        return async_to_sync(self._daphne_restart)()

    async def _daphne_restart(self) -> dict:
        first = await asyncio.to_thread(self.start_daphne, "daphne-gf-1")
        origin = first.origin
        ann, bob = await asyncio.to_thread(self.players, origin, "ann", "bob")
        public_id, match_id = await asyncio.to_thread(self.pong, ann, bob)
        clients = [
            (await Client.open(origin, public_id, cookie=b.cookie_header)).start()
            for b in (ann, bob)
        ]
        slots = [c.welcome["slot"] for c in clients]
        self.assertEqual([c.welcome["role"] for c in clients], ["player", "player"])
        for client in clients:
            await client.until(lambda c=client: len(c.states) > 10, 15, "the match running")
        old_sockets = sockets_of(match_id)
        self.assertEqual(sorted(old_sockets), [0, 1])
        before = store.load_state(match_id)

        first.signal(signal.SIGKILL)
        killed_at = time.monotonic()
        for client in clients:
            await asyncio.wait_for(client.task, 5)
        drop_codes = [int(c.ws.close_code or 0) for c in clients]
        # Nobody ran the dead process's disconnect handlers: its channels stay in the sockets
        # hash and the runner never hears that the players went away.
        await asyncio.sleep(1.0)
        during = store.load_state(match_id)
        stale_sockets = sockets_of(match_id) == old_sockets

        async def back(browser: Browser) -> tuple[Client, float, float]:
            while True:
                try:
                    client = (await Client.open(origin, public_id,
                                                cookie=browser.cookie_header)).start()  # fmt: skip
                    break
                except (OSError, InvalidHandshake, ConnectionClosed):
                    await asyncio.sleep(0.1)  # a browser's reconnect backoff, at its floor
            await client.until(lambda: client.states, 10, "the snapshot")
            snapshot_at = time.monotonic()
            first_tick = client.states[0][1]["tick"]
            await client.until(lambda: client.last()["tick"] > first_tick, 10, "a live state")
            return client, snapshot_at, time.monotonic()

        returning = [asyncio.ensure_future(back(b)) for b in (ann, bob)]
        second = await asyncio.to_thread(self.start_daphne, "daphne-gf-2", port=first.port)
        up_at = time.monotonic()
        at_up = store.load_state(match_id)
        results = await asyncio.wait_for(asyncio.gather(*returning), 20)
        clients = [client for client, _, _ in results]
        flowing_at = max(at for _, _, at in results)
        self.assertEqual([c.welcome["role"] for c in clients], ["player", "player"])
        self.assertEqual([c.welcome["slot"] for c in clients], slots)
        for client in clients:
            n = len(client.states)
            await client.until(lambda c=client, n=n: len(c.states) >= n + 10, 5, "states")
        new_sockets = sockets_of(match_id)
        self.assertEqual(sorted(new_sockets), [0, 1])
        self.assertTrue(all(new_sockets[s] != old_sockets[s] for s in (0, 1)))
        after_reconnect = store.load_state(match_id)

        # Presence works again on the new process: a player who leaves pauses Pong, and
        # coming back resumes it.
        ann_client, bob_client = clients
        await ann_client.close()
        await bob_client.until(lambda: bob_client.last().get("paused") == [0], 5, "a pause")
        paused_at = bob_client.last()["tick"]
        ann_client = (await Client.open(origin, public_id, cookie=ann.cookie_header)).start()
        await bob_client.until(
            lambda: bob_client.last()["tick"] > paused_at + 5
            and "paused" not in bob_client.last(), 5, "the match resumed",
        )  # fmt: skip
        for client in (ann_client, bob_client):
            await client.close()
        log = second.log()
        self.assertNotIn("Traceback", log)

        figures = {
            "states_again_after_daphne_up_s": round(flowing_at - up_at, 2),
            "outage_s": round(flowing_at - killed_at, 2),
            "close_code_seen_by_clients": drop_codes,
            "stale_sockets_entries_kept_while_down": stale_sockets,
            "paused_while_daphne_down": bool(during["absent"]),
            "ticks_played_while_daphne_down": at_up["tick"] - before["tick"],
            "scores_before_kill": before["state"]["scores"],
            "scores_after_reconnect": after_reconnect["state"]["scores"],
            "pause_and_resume_after_restart": True,
        }
        print(f"\n  daphne_restart: {figures}")
        return figures
