"""deploy/nginx.conf's limits, on Debian's nginx in front of a real Daphne: what is within them
gets through, what is beyond is refused with 429, a reason and Retry-After, and nginx's log
names the limit (docs/operations.md, "Connection limits").

Each test's players come from addresses of their own (every 127.0.0.0/8 address is the
loopback's), so that the per-address limits of one test do not spill into another's.
"""

import asyncio
import http.client
import json
import re
import shutil

from django.test import TransactionTestCase

from matches import services
from realtime.dev.loadtest import wsclient
from tests.support import proxy, stack

CONF = proxy.SHIPPED.read_text()


def limit(zone: str) -> tuple[int, int]:
    """(rate per second, burst) of ``zone`` as the shipped file sets them."""
    rate = re.search(rf"zone={zone}:\S+ rate=(\d+)r/s;", CONF)
    burst = re.search(rf"limit_req zone={zone} burst=(\d+)", CONF)
    assert rate and burst, f"no limit_req zone {zone} in deploy/nginx.conf"
    return int(rate[1]), int(burst[1])


def open_limit(zone: str) -> int:
    found = re.search(rf"limit_conn {zone} (\d+);", CONF)
    assert found, f"no limit_conn {zone} in deploy/nginx.conf"
    return int(found[1])


class NginxLimitTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.daphne = stack.daphne("daphne-limits", options=("--proxy-headers",))
        self.addCleanup(self.daphne.stop)
        self.port = stack.free_port()
        self.nginx = proxy.nginx("nginx-limits", upstreams=[f"127.0.0.1:{self.daphne.port}"],
                                 listen=f"127.0.0.1:{self.port}")  # fmt: skip
        self.addCleanup(shutil.rmtree, self.nginx.directory, ignore_errors=True)
        self.addCleanup(self.nginx.stop)
        self.origin = f"http://127.0.0.1:{self.port}"
        stack.wait_healthy(self.nginx, self.origin, what="nginx in front of Daphne")

    # --- helpers -----------------------------------------------------------------------------
    def _url(self, public_id: str = "nosuchmatch") -> str:
        return f"ws://127.0.0.1:{self.port}/ws/matches/{public_id}/"

    async def _handshake(self, host: str, public_id: str = "nosuchmatch", keep: list | None = None):
        """101 or the refusal's status; an accepted socket is kept in ``keep`` or closed."""

        def pong(payload: bytes, binary: bool) -> None:
            message = json.loads(payload) if not binary else {}
            if message.get("type") == "ping":  # the server's own check that we read
                conn.send_text(json.dumps({"type": "pong", "v": 1, "id": message["id"]}).encode())

        try:
            conn = await wsclient.connect(self._url(public_id), origin=self.origin, headers={},
                                          on_message=pong, local_host=host, timeout=20)  # fmt: skip
        except wsclient.HandshakeError as exc:
            return exc.status
        if keep is None:
            conn.abort()
        else:
            keep.append(conn)
        return 101

    def _refusal(self, host: str, path: str, **headers: str) -> tuple[int, dict, dict]:
        """One plain request from ``host``: status, headers, JSON body (or {})."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10,
                                          source_address=(host, 0))  # fmt: skip
        try:
            conn.request("GET", path, headers={"Origin": self.origin, **headers})
            response = conn.getresponse()
            body = response.read()
            try:
                data = json.loads(body)
            except ValueError:
                data = {}
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def _first_refusal(self, host: str, path: str, **headers: str) -> tuple[int, dict, dict]:
        """Requests from ``host`` until nginx refuses one (tokens come back as time passes;
        one that gets through is Daphne's to answer: 200, or 400 for a handshake without a
        key)."""
        for _ in range(500):
            answer = self._refusal(host, path, **headers)
            if answer[0] == 429:
                return answer
        raise AssertionError(f"500 requests from {host} to {path}, none refused")

    def _assert_refused_with_reason(self, status: int, headers: dict, body: dict) -> None:
        self.assertEqual(status, 429)
        self.assertEqual(body["error"], "too_many_requests")
        self.assertIn("try again", body["reason"])
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)

    def _logged(self, zone: str) -> bool:
        return f'zone "{zone}"' in self.nginx.log()

    # --- the tests ---------------------------------------------------------------------------
    def test_one_address_gets_a_burst_of_new_sockets_through_and_429_beyond_it(self):
        rate, burst = limit("ws_per_address")
        extra = 20

        async def together():
            return await asyncio.gather(*(self._handshake("127.0.0.61")
                                          for _ in range(burst + 1 + extra)))  # fmt: skip

        statuses = asyncio.run(together())
        through = statuses.count(101)
        self.assertEqual(set(statuses), {101, 429})
        # The burst and the one the rate allows at once; a few more if tokens came back
        # while the handshakes were arriving (a slow machine: up to 2 s of them).
        self.assertGreaterEqual(through, burst + 1)
        self.assertLessEqual(through, burst + 1 + 2 * rate)
        self._assert_refused_with_reason(
            *self._first_refusal("127.0.0.61", "/ws/matches/x/", Upgrade="websocket",
                                 Connection="Upgrade")
        )  # fmt: skip
        self.assertTrue(self._logged("ws_per_address"))
        # Another address is another household: its first socket gets through.
        self.assertEqual(asyncio.run(self._handshake("127.0.0.62")), 101)

    def test_one_address_holds_its_open_sockets_up_to_the_limit_and_no_more(self):
        limit_open = open_limit("ws_open_per_address")
        match = services.match_create(title="pong")  # waiting: spectators' sockets stay open
        kept: list = []

        async def fill():
            refused = 0
            while len(kept) < limit_open:
                status = await self._handshake("127.0.0.71", match.public_id, keep=kept)
                if status != 101:
                    self.assertEqual(status, 429)
                    refused += 1
                    await asyncio.sleep(0.25)  # the rate limit's pace, as a client backs off
            await asyncio.sleep(1.0)  # tokens for more: a refusal now is the open limit's
            beyond = await self._handshake("127.0.0.71", match.public_id)
            elsewhere = await self._handshake("127.0.0.72", match.public_id, keep=kept)
            kept.pop(0).close()
            await asyncio.sleep(1.0)  # nginx sees the close
            again = await self._handshake("127.0.0.71", match.public_id, keep=kept)
            for conn in kept:
                conn.abort()
            return beyond, elsewhere, again

        beyond, elsewhere, again = asyncio.run(fill())
        self.assertEqual(beyond, 429)
        self.assertTrue(self._logged("ws_open_per_address"))
        self.assertEqual(elsewhere, 101)
        self.assertEqual(again, 101)

    def test_everyone_together_is_held_to_one_daphne_s_rate_and_refused_past_the_burst(self):
        rate, burst = limit("ws_everyone")
        per_address = 5
        total = burst + 2 * rate
        # Five to an address, as many addresses as that takes (past one /24 at a burst of 1,000).
        hosts = [f"127.0.{2 + i // (per_address * 250)}.{2 + (i // per_address) % 250}"
                 for i in range(total)]  # fmt: skip

        async def stampede():
            loop = asyncio.get_running_loop()
            start = loop.time()
            statuses = await asyncio.gather(*(self._handshake(h) for h in hosts))
            return statuses, loop.time() - start

        statuses, seconds = asyncio.run(stampede())
        through = statuses.count(101)
        self.assertEqual(set(statuses), {101, 429})
        self.assertTrue(self._logged("ws_everyone"))
        # Those within the burst got through, delayed to the rate, not refused...
        self.assertGreaterEqual(through, burst)
        # ...and no more than the burst and what the rate let through meanwhile.
        self.assertLessEqual(through, burst + 1 + rate * seconds)
        self.assertGreater(seconds, (through - burst) / rate * 0.5)

    def test_the_api_takes_a_page_load_s_burst_from_one_address_and_429_beyond_it(self):
        _, burst = limit("http_per_address")
        statuses = [self._refusal("127.0.0.81", "/healthz")[0] for _ in range(burst + 30)]
        self.assertEqual(set(statuses), {200, 429})
        self.assertGreaterEqual(statuses.count(200), burst + 1)
        self._assert_refused_with_reason(*self._first_refusal("127.0.0.81", "/healthz"))
        self.assertTrue(self._logged("http_per_address"))
        self.assertEqual(self._refusal("127.0.0.82", "/healthz")[0], 200)
