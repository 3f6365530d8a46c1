"""Several hosts on one machine (network namespaces, tests/support/netns.py): Redis with the
default worker and beat on a data host, two app hosts each with a Daphne and a tick worker,
Debian's nginx from deploy/nginx.conf on a proxy host, and players who reach only the proxy.
A whole app host is lost (its link down, every process SIGKILLed): its matches resume on the
other host and its players come back through nginx to their seats."""

import asyncio
import re
import shutil
import threading
import time
import urllib.request
from concurrent.futures import Future
from urllib.parse import urlsplit

import redis
from django.db import connection
from django.test import TransactionTestCase
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from matches.models import AuditLog, Match, Participation, Player
from realtime import store
from tests.chaos.results import scenario
from tests.support import netns, proxy, stack
from tests.support.blackhole import Blackhole
from tests.support.live import Browser, Client
from tests.support.matches import counting_down
from tests.support.redisservers import BASE, Server, _answers, using

SUBNET, PLAYERS_SUBNET = "10.231.170", "10.231.171"
HOSTS = {"data": 2, "proxy": 5, "app1": 11, "app2": 12}
APPS = ("app1", "app2")
DAPHNE_PORT = 8000
PAIRS = 3  # Pong matches with two players on sockets through nginx
BOT_MATCHES = 6  # bots only: more matches for the two tick workers to share
RESUME_BAR_S = 3.0
# Past deploy/nginx.conf's /ws/ read timeout (8 s) with room: a socket open then stays open.
STAYED_OPEN_S = 15.0
RECONNECT_FOR_S = 20.0  # a browser would go on trying; a test gives up
ENV = {"MATCH_COUNTDOWN_S": "0.3"}


class Players(threading.Thread):
    """An event loop inside the players' namespace: the test runs coroutines on it, and the
    sockets they open can reach nothing but the proxy (so can threads it starts: no database
    there, the test reads it)."""

    def __init__(self, namespace: str) -> None:
        super().__init__(daemon=True, name="players")
        self.namespace, self.ready = namespace, threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        netns.enter(self.namespace)
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.ready.set()
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def submit(self, coro) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro, timeout: float):
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(10)


class Seat:
    """One player: a browser (session cookie) and its socket through the proxy."""

    def __init__(self, browser: Browser, public_id: str) -> None:
        self.browser, self.public_id = browser, public_id
        self.match_id = 0  # the row's pk, read by the test (this thread has no database)
        self.client: Client | None = None
        self.slot: int | None = None


def holder_pid(match_id: int) -> int | None:
    token = store.lease_holder(match_id)
    return int(token.split(":")[1]) if token else None


def ws_sockets(origin: str, pid: int) -> int:
    """The sockets a Daphne (by pid) has open, from its figures in /metrics (any Daphne's)."""
    with urllib.request.urlopen(f"{origin}/metrics", timeout=2) as response:
        text = response.read().decode()
    found = re.search(rf'^arcade_ws_sockets\{{process="[^"]*:{pid}"\}} (\S+)$', text, re.MULTILINE)
    return int(float(found[1])) if found else 0


def database_rows() -> dict[str, int]:
    return {"matches": Match.objects.count(), "players": Player.objects.count(),
            "participations": Participation.objects.count(),
            "audit_log": AuditLog.objects.count()}  # fmt: skip


class LostAppHostTests(TransactionTestCase):
    def setUp(self):
        self.network = netns.Network(SUBNET, HOSTS, isolated=("players",))
        self.addCleanup(self.network.close)
        proxy_end, _ = self.network.link("proxy", "players", PLAYERS_SUBNET)
        self.origin = f"http://{proxy_end}"  # port 80: the Origin a browser sends has none
        data = self.network.hosts["data"]
        # No password: protected mode would refuse every host but the data host itself.
        config = BASE + f"bind {data}\nport 6379\nprotected-mode no\n"
        redis_server = Server("hosts-redis", config, port=6379, host=data,
                              netns=self.network.netns("data"))  # fmt: skip
        self.addCleanup(shutil.rmtree, redis_server.dir, ignore_errors=True)
        self.addCleanup(redis_server.stop)
        probe = redis.Redis(host=data, port=6379, socket_connect_timeout=0.5)
        stack.wait_for(lambda: _answers(probe, redis_server), timeout=10, what="Redis (data host)")
        env = {**ENV, "DATABASE_URL": self.database_url(),
               "ALLOWED_HOSTS": ",".join([proxy_end, *self.network.hosts.values()])}  # fmt: skip
        # This process reads and seeds that Redis too; the children get it from settings.
        self.enterContext(using({"REDIS_URL": f"redis://{data}:6379/0"}))

        def start(service: stack.Service) -> stack.Service:
            self.addCleanup(service.stop)
            return service

        on = self.network.netns
        self.ticks = {h: start(stack.tick_worker(f"ticks-{h}", netns=on(h), **env)) for h in APPS}
        workers = [
            *self.ticks.values(),
            start(stack.default_worker("default-data", netns=on("data"), **env)),
        ]
        start(stack.beat("beat-data", netns=on("data"), **env))
        self.daphnes = {
            h: start(stack.daphne(f"daphne-{h}", host=self.network.hosts[h], port=DAPHNE_PORT,
                                  netns=on(h), options=("--proxy-headers",), **env))
            for h in APPS
        }  # fmt: skip
        upstreams = [f"{self.network.hosts[h]}:{DAPHNE_PORT}" for h in APPS]
        self.nginx = proxy.nginx("nginx-hosts", upstreams=upstreams, netns=on("proxy"))
        self.addCleanup(shutil.rmtree, self.nginx.directory, ignore_errors=True)
        start(self.nginx)  # stopped before its directory goes
        stack.wait_healthy(
            self.nginx, f"http://{self.network.hosts['proxy']}", what="nginx on the proxy host"
        )
        stack.wait_logged(*workers)
        self.players = Players(on("players"))
        self.players.start()
        self.players.ready.wait(10)
        self.addCleanup(self.players.stop)

    def database_url(self) -> str:
        """The test database as the hosts reach it: SQLite is a file (namespaces share the
        filesystem); PostgreSQL on this namespace's loopback, through a forwarder on the
        switch link."""
        url = stack.test_database_url()
        if url.startswith("sqlite"):
            return url
        db = connection.settings_dict
        forwarder = Blackhole((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)),
                              host=self.network.root_address)  # fmt: skip
        self.addCleanup(forwarder.close)
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        return parts._replace(netloc=f"{auth}@{self.network.root_address}:{forwarder.port}"
                              if auth else f"{self.network.root_address}:{forwarder.port}"
                              ).geturl()  # fmt: skip

    # --- the players (coroutines on the players' loop) --------------------------------------

    async def seat_players(self) -> list[Seat]:
        seats = []
        for pair in range(PAIRS):
            browsers = []
            for who in ("host", "guest"):
                browser = Browser(self.origin)
                browser.post("/api/me", {"display_name": f"{who}{pair}"})
                browsers.append(browser)
            public_id = browsers[0].post(
                "/api/matches", {"title": "pong", "settings": {"score_to": 21}}
            )["match"]["id"]
            browsers[1].post(f"/api/matches/{public_id}/join")
            seats += [Seat(b, public_id) for b in browsers]
        for seat in seats:
            seat.client = await self.open(seat)
            seat.slot = seat.client.welcome["slot"]
        for seat in seats:
            await seat.client.until(lambda s=seat: len(s.client.states) > 10, 20, "states")
        return seats

    async def come_back(self, seat: Seat, lost_at: float) -> dict | None:
        """Wait for the proxy to close a socket whose Daphne is gone (None: it stayed open),
        then reconnect (the browser's first backoff) until states flow on the new one."""
        try:
            await asyncio.wait_for(asyncio.shield(seat.client.task), STAYED_OPEN_S)
        except TimeoutError:
            return None
        closed_at, close_code = time.monotonic(), seat.client.ws.close_code
        attempts = 0
        while True:
            attempts += 1
            try:
                client = await self.open(seat)
                break
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
                if time.monotonic() - closed_at > RECONNECT_FOR_S:
                    raise
                await asyncio.sleep(0.25)
        await client.until(lambda: client.states, 10, "the snapshot")
        first = client.states[0][1]["tick"]
        await client.until(lambda: client.last()["tick"] > first + 10, 10, "live states")
        seat.client = client
        return {"closed_after_s": closed_at - lost_at, "close_code": close_code,
                "flowing_after_s": time.monotonic() - lost_at, "attempts": attempts,
                "role": client.welcome["role"], "slot": client.welcome["slot"]}  # fmt: skip

    async def open(self, seat: Seat) -> Client:
        client = await Client.open(self.origin, seat.public_id, cookie=seat.browser.cookie_header)
        return client.start()

    async def close_all(self, seats: list[Seat]) -> None:
        # At once: a close handshake with nobody behind the proxy waits out its timeout.
        clients = [seat.client for seat in seats if seat.client is not None]
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)

    # --- the scenario ------------------------------------------------------------------------

    @scenario("lost_app_host")
    def test_a_lost_app_host_s_matches_resume_on_the_other_and_its_players_return_through_nginx(
        self,
    ):
        bots = [counting_down(names=(), fill_with_bots=True, settings={"score_to": 21}).pk
                for _ in range(BOT_MATCHES)]  # fmt: skip
        seats = self.players.call(self.seat_players(), 90)
        for seat in seats:
            seat.match_id = Match.objects.get(public_id=seat.public_id).pk
        self.addCleanup(lambda: self.players.call(self.close_all(seats), 30))
        match_ids = sorted({*bots, *(s.match_id for s in seats)})
        stack.wait_for(lambda: all(holder_pid(m) for m in match_ids), timeout=20,
                       what="every match to have a runner")  # fmt: skip
        # Running a while, as a host is lost in earnest: the supervisor re-dispatches a match
        # once per lease gap, so not while the mark of its first dispatch is fresh.
        ran = store.DISPATCH_MARK_MS / 1000 + 1
        stack.wait_for(lambda: all(store.load_state(m)["tick"] > ran * 30 for m in match_ids),
                       timeout=20, what=f"every match to run for {ran} s")  # fmt: skip

        # Spread: both tick workers run matches.
        pid_host = {self.ticks[h].pid: h for h in APPS}
        spread = {h: [m for m in match_ids if pid_host.get(holder_pid(m)) == h] for h in APPS}
        self.assertEqual(sum(len(ms) for ms in spread.values()), len(match_ids), spread)
        for host in APPS:
            self.assertGreaterEqual(len(spread[host]), 2, spread)

        # The victim: the app host with more of the players' sockets (nginx spread them).
        def open_on(host: str, at: str) -> int:
            return ws_sockets(self.daphnes[at].origin, self.daphnes[host].pid)

        stack.wait_for(lambda: sum(open_on(h, h) for h in APPS) == len(seats),
                       timeout=10, what="every socket counted by its Daphne")  # fmt: skip
        sockets = {h: open_on(h, h) for h in APPS}
        victim = max(APPS, key=sockets.get)
        survivor = next(h for h in APPS if h != victim)
        self.assertGreaterEqual(sockets[victim], 1)
        rows_before = database_rows()
        channels_before = {m: _sockets_of(m) for m in match_ids}
        moved = {m: store.load_state(m)["tick"] for m in spread[victim]}

        killed = self.network.lose(victim)
        lost_at = time.monotonic()
        self.assertIn(self.ticks[victim].pid, killed)
        self.assertIn(self.daphnes[victim].pid, killed)

        # Players on the survivor's Daphne keep their sockets; the others come back.
        watching = [self.players.submit(self.come_back(seat, lost_at)) for seat in seats]
        survivor_pid = self.ticks[survivor].pid
        resumed_s = {}
        while len(resumed_s) < len(moved) and time.monotonic() - lost_at < 10:
            for m, tick in moved.items():
                if (m not in resumed_s and holder_pid(m) == survivor_pid
                        and store.load_state(m)["tick"] > tick):  # fmt: skip
                    resumed_s[m] = time.monotonic() - lost_at
            time.sleep(0.02)
        self.assertEqual(sorted(resumed_s), sorted(moved), "every match resumed on the survivor")
        self.assertLess(max(resumed_s.values()), RESUME_BAR_S, resumed_s)

        returned = [future.result(STAYED_OPEN_S + 30) for future in watching]
        back = [r for r in returned if r is not None]
        self.assertEqual(len(back), sockets[victim], f"sockets closed and back: {returned}")
        for seat, result in zip(seats, returned, strict=True):
            if result is not None:
                self.assertEqual((result["role"], result["slot"]), ("player", seat.slot))
        # Everyone's states flow now, on the survivor's Daphne, every seat held there.
        self.players.call(self.all_flowing(seats), 15)
        stack.wait_for(lambda: open_on(survivor, survivor) == len(seats), timeout=10,
                       what="every socket on the survivor")  # fmt: skip
        for m in match_ids:
            self.assertEqual(sorted(_sockets_of(m)), [0, 1] if m not in bots else [], m)
        # A returning player's new socket took over the seat the dead Daphne's channel held.
        for seat, result in zip(seats, returned, strict=True):
            was, now = channels_before[seat.match_id][seat.slot], _sockets_of(seat.match_id)
            self.assertEqual(now[seat.slot] != was, result is not None, (seat.slot, result))

        # Nothing the database holds is lost; no match was aborted; every session still
        # names its player through nginx.
        names = self.players.call(self.names(seats), 30)
        self.assertEqual(
            names, [f"{who}{pair}" for pair in range(PAIRS) for who in ("host", "guest")]
        )
        rows_after = database_rows()
        for table, count in rows_before.items():
            self.assertGreaterEqual(rows_after[table], count, table)
        statuses = set(Match.objects.filter(pk__in=match_ids).values_list("status", flat=True))
        self.assertEqual(statuses, {Match.Status.RUNNING})
        for service in (self.daphnes[survivor], self.ticks[survivor]):
            self.assertNotIn("Traceback", service.log())

        reconnect = sorted(r["flowing_after_s"] for r in back)
        return {
            "database": connection.vendor,
            "matches_per_tick_worker": {h: len(spread[h]) for h in APPS},
            "player_sockets_per_daphne": sockets,
            "matches_moved": len(moved),
            "resumed_after_host_lost_s": sorted(round(s, 2) for s in resumed_s.values()),
            "sockets_closed_by_nginx_after_s": sorted(round(r["closed_after_s"], 2) for r in back),
            "states_again_after_host_lost_s": [round(s, 2) for s in reconnect],
            "reconnect_attempts": sorted(r["attempts"] for r in back),
            "close_codes_seen_by_clients": sorted({int(r["close_code"] or 0) for r in back}),
            "database_rows_before": rows_before,
            "database_rows_after": rows_after,
        }

    async def names(self, seats: list[Seat]) -> list[str]:
        replies = [seat.browser.request("GET", "/api/me") for seat in seats]
        return [reply["player"]["display_name"] if status == 200 else f"{status} {reply}"
                for status, reply in replies]  # fmt: skip

    async def all_flowing(self, seats: list[Seat]) -> None:
        for seat in seats:
            n, what = len(seat.client.states), f"states, slot {seat.slot} of {seat.match_id}"
            await seat.client.until(lambda s=seat, n=n: len(s.client.states) >= n + 10, 10, what)


def _sockets_of(match_id: int) -> dict[int, str]:
    raw = store.client().hgetall(store.key(match_id, "sockets"))
    return {int(k): v.decode() for k, v in raw.items()}
