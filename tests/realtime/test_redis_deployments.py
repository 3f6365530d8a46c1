"""The live stack on real Redis deployments (realtime/redisconn.py): a TLS-only Redis with a
CA made here, a client certificate and an ACL user; a Sentinel set (a primary, a replica,
three sentinels). Daphne, a tick worker, the default worker and beat run on each: a match
plays, inputs land, states arrive, and every connection speaks RESP2.
"""

import tempfile
from pathlib import Path

from asgiref.sync import async_to_sync
from django.test import TransactionTestCase

from realtime import store
from tests.support import stack
from tests.support.live import Browser, Client, tracker
from tests.support.redisservers import SentinelSet, make_ca, tls_redis, using

DAPHNE_ENV = {"MATCH_COUNTDOWN_S": "0.3", "GATEWAY_PING_INTERVAL_S": "0.5"}


class LiveOnRedis(TransactionTestCase):
    """Starts the stack on `cls.deployment` (made by `deploy()`), with this process on it too."""

    @classmethod
    def deploy(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.deployment = cls.deploy()
        cls.redis = using(cls.deployment.settings)
        cls.redis.__enter__()
        tag = cls.__name__.lower()[:12]
        cls.workers = [stack.tick_worker(f"ticks-{tag}"), stack.default_worker(f"default-{tag}")]
        cls.services = [*cls.workers, stack.beat(f"beat-{tag}")]
        stack.wait_logged(*cls.workers)
        cls.daphne = stack.daphne(f"daphne-{tag}", **DAPHNE_ENV)
        cls.services.append(cls.daphne)

    @classmethod
    def tearDownClass(cls):
        for service in cls.services:
            service.stop()
        cls.redis.__exit__()
        cls.deployment.stop()
        super().tearDownClass()

    def play_a_match(self, origin: str | None = None) -> dict:
        """Two players on one match: their inputs move their paddles, states keep coming."""
        return async_to_sync(self._play)(origin or self.daphne.origin)

    async def _play(self, origin: str) -> dict:
        ann, bob = Browser(origin), Browser(origin)
        ann.post("/api/me", {"display_name": "ann"})
        bob.post("/api/me", {"display_name": "bob"})
        public_id = ann.post("/api/matches", {"title": "pong"})["match"]["id"]
        bob.post(f"/api/matches/{public_id}/join")
        a = (await Client.open(origin, public_id, cookie=ann.cookie_header)).start()
        b = (await Client.open(origin, public_id, cookie=bob.cookie_header)).start()
        a.policy, b.policy = tracker(0), tracker(1)

        def moved() -> list[bool]:
            return [any(m["state"]["paddles"][s]["dir"] for _, m, _ in a.states) for s in (0, 1)]

        # The first serve comes at tick 45, maybe nearly level: the paddles follow it later.
        await a.until(lambda: len(a.states) > 60 and all(moved()), 20, "both paddles moving")
        self.assertEqual(moved(), [True, True])  # both players' inputs reached the runner
        ticks = [m["tick"] for _, m, _ in a.states]
        self.assertEqual(ticks, sorted(set(ticks)))
        for client in (a, b):
            await client.close()
        return {"public_id": public_id, "states": len(a.states)}

    def assert_every_connection_speaks_resp2(self) -> set[str]:
        clients = store.client().client_list()
        self.assertEqual({c["resp"] for c in clients}, {"2"}, clients)
        return {c["name"] for c in clients}


class TLSRedisTests(LiveOnRedis):
    @classmethod
    def deploy(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="arcade-ca-"))
        return tls_redis(make_ca(cls.tmp))

    def test_the_stack_plays_a_match_over_tls_with_an_acl_user_and_a_client_certificate(self):
        self.assertTrue(store.client().connection_pool.connection_kwargs["ssl_ca_certs"])
        self.play_a_match()
        names = self.assert_every_connection_speaks_resp2()
        # The hub, the input pipe and the redis-py clients of each process are all there.
        self.assertLessEqual({"arcade:hub", "arcade:inputs", "arcade:gateway", "arcade:store"},
                             names)  # fmt: skip
        self.assertEqual(store.client().acl_whoami(), "arcade")


class SentinelRedisTests(LiveOnRedis):
    @classmethod
    def deploy(cls):
        return SentinelSet()

    def test_the_stack_plays_a_match_on_the_primary_the_sentinels_name(self):
        self.play_a_match()
        self.assert_every_connection_speaks_resp2()
        primary = self.deployment.primary_port()
        self.assertEqual(primary, self.deployment.data_ports[0])
        # Everything ran on the primary; the replica has the same keys.
        replica = self.deployment.client(self.deployment.data_ports[1])
        self.assertTrue(replica.exists(store.FINISHED_INDEX) or replica.dbsize() > 0)
