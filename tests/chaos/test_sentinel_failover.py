"""The Redis primary of a Sentinel set killed (SIGKILL) mid-match: the sentinels promote the
replica, every process follows it by itself (the tick worker's pipeline and broker
connection, the default worker, beat, Daphne's hub, input pipe and redis.asyncio client), the
matches resume from what the replica had, sockets never see a tick twice, and matches that
finished around the kill (their `finish_match` message gone with the old primary) are
finished in the database once."""

import asyncio
import os
import re
import signal
import statistics
import time
import urllib.request

from asgiref.sync import async_to_sync, sync_to_async
from django.test import TransactionTestCase

from matches import services
from matches.models import Match, Participation, Replay
from realtime import store
from realtime.engine.match import MatchRunner, Outcome
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.live import pong_players, tracker
from tests.support.redisservers import SentinelSet, using
from tests.support.sockets import begin

SHORT_MATCHES = 3  # run by this process, finished just before the kill: no finish_match


def _wait_cost_ms(client, rounds: int = 300) -> dict:
    """A write alone against the same write followed by WAIT 1 (the replica's ack): ms."""
    times = {False: [], True: []}
    for i in range(rounds):
        for waits in (False, True):
            pipe = client.pipeline(transaction=False)
            pipe.set("chaos:wait", i)
            if waits:
                pipe.execute_command("WAIT", 1, 100)
            start = time.perf_counter()
            pipe.execute()
            times[waits].append((time.perf_counter() - start) * 1000)
    q = {w: statistics.quantiles(t, n=100) for w, t in times.items()}
    return {"write_p50_ms": round(q[False][49], 3), "write_wait_p50_ms": round(q[True][49], 3),
            "write_p99_ms": round(q[False][98], 3),
            "write_wait_p99_ms": round(q[True][98], 3)}  # fmt: skip


def _counting_down_for_an_hour(name: str) -> Match:
    """A Pong match against a bot to one point, not the supervisor's to begin for an hour:
    this process begins and runs it (``_started_here``)."""
    match = services.match_create(title="pong", fill_with_bots=True, settings={"score_to": 1})
    services.match_join(match_id=match.pk, player=services.player_create(display_name=name))
    return services.match_start(match_id=match.pk, countdown_s=3600)


def _started_here(match: Match) -> MatchRunner:
    """Begin a short match with its runner in this process, as a worker would: its
    finish_match message will never reach the broker."""
    begin(match)
    runner = MatchRunner(match.pk)
    assert runner.acquire() is Outcome.CONTINUE
    for _ in range(10):
        runner.advance()
    return runner


def _to_the_end(runners: list[MatchRunner]) -> list[int]:
    """Tick them in turn (each renews its lease) until all are over; their final ticks."""
    left = list(runners)
    while left:
        for runner in list(left):
            outcome = runner.advance()
            if outcome is not Outcome.CONTINUE:
                assert outcome is Outcome.FINISHED, outcome
                left.remove(runner)
    return [runner.state["tick"] for runner in runners]


class SentinelFailoverTests(TransactionTestCase):
    def setUp(self):
        self.deployment = SentinelSet()
        self.addCleanup(self.deployment.stop)
        self.redis = using(self.deployment.settings)
        self.redis.__enter__()
        self.addCleanup(self.redis.__exit__)
        self.worker = stack.tick_worker("ticks-fo")
        self.default = stack.default_worker("default-fo")
        self.services = [self.worker, self.default, stack.beat("beat-fo")]
        for service in self.services:
            self.addCleanup(service.stop)
        stack.wait_logged(self.worker, self.default)
        self.daphne = stack.daphne("daphne-fo", MATCH_COUNTDOWN_S="0.3")
        self.addCleanup(self.daphne.stop)

    @scenario("sentinel_failover")
    def test_after_the_primary_is_killed_matches_resume_on_the_promoted_replica(self):
        old = self.deployment.primary_port()
        replica_port = next(p for p in self.deployment.data_ports if p != old)
        wait_cost = _wait_cost_ms(self.deployment.client(old))
        short = [_counting_down_for_an_hour(f"s{i}") for i in range(SHORT_MATCHES)]
        figures = async_to_sync(self._play_through_the_failover)(old, short)
        figures["wait_1_cost"] = wait_cost
        self.assertEqual(self.deployment.primary_port(), replica_port)

        def all_finished() -> bool:
            done = Match.objects.filter(pk__in=[m.pk for m in short], status=Match.Status.FINISHED)
            return done.count() == len(short)

        stack.wait_for(all_finished, timeout=20, interval=0.2, what="the short matches' results")
        for match in short:
            match.refresh_from_db()
            self.assertEqual(sorted(match.summary["scores"]), [0, 1])
            results = Participation.objects.filter(match=match).values_list("result", flat=True)
            self.assertEqual(sorted(results), ["loss", "win"])
        # Their ends were lost with the old primary: the tick worker ran them again.
        log = self.worker.log()
        figures["short_matches_run_again"] = sum(
            bool(re.search(rf"match {m.pk}: runner \S+ took epoch", log)) for m in short
        )
        replays = Replay.objects.filter(match__in=short).count()
        self.assertEqual(replays, len(short))
        figures["results_lost"] = len(short) - replays
        figures["results_doubled"] = 0  # a replay per match (one-to-one) and one finish each
        # The re-published ticks that reached Daphne (those published before its hub was back
        # on the new primary did not) and went no further: the sockets' check above.
        figures["states_held_back"] = self._held_back()
        return figures

    async def _play_through_the_failover(self, old: int, short: list[Match]) -> dict:
        replica_port = next(p for p in self.deployment.data_ports if p != old)
        replica = self.deployment.client(replica_port)

        def replicated() -> bool:
            statuses = [replica.hget(store.key(m.pk, "state"), "status") for m in short]
            return statuses == [b"running"] * len(short)

        _, a, b = await pong_players(self.daphne.origin)
        a.policy, b.policy = tracker(0), tracker(1)
        try:
            await a.until(lambda: len(a.states) > 45, 20, "45 states")
            # Begun now: their leases live only while this process ticks them.
            runners = [await sync_to_async(_started_here)(m) for m in short]
            stack.wait_for(replicated, timeout=1, what="the replica to have the short matches")
            playing = await sync_to_async(
                lambda: Match.objects.exclude(pk__in=[m.pk for m in short]).get().pk
            )()
            final_ticks = await asyncio.to_thread(self._lag_and_kill, old, replica_port, runners)
            killed_at = time.monotonic()
            await asyncio.sleep(0.2)  # what was published before the kill is delivered by now
            seen, last_tick = len(a.states), a.states[-1][1]["tick"]
            await a.until(lambda: a.states[-1][1]["tick"] > last_tick and len(a.states) > seen,
                          30, "states after the failover")  # fmt: skip
            resume_s = time.monotonic() - killed_at
            await a.until(lambda: len(a.states) > seen + 60, 20, "60 states after the failover")
            after = [m for _, m, _ in a.states[seen:]]
            # Both players' inputs still reach the runner (the input pipe followed too).
            moved = [any(m["state"]["paddles"][s]["dir"] for m in after) for s in (0, 1)]
            self.assertEqual(moved, [True, True])
            for client in (a, b):
                ticks = [m["tick"] for _, m, _ in client.states]
                self.assertEqual(ticks, sorted(set(ticks)), "a tick twice or going backwards")
        finally:
            for client in (a, b):
                await client.close()
        twice = sum(len(c.states) - len({m["tick"] for _, m, _ in c.states}) for c in (a, b))
        rewound = self._rewound(playing, last_tick)
        print(f"\n  failover: states again {resume_s:.2f} s after the kill, at tick {last_tick} "
              f"→ {after[0]['tick']}; the replica was {rewound} ticks behind")  # fmt: skip
        self.assertGreater(rewound, 0, "the replica was behind: the resume re-published ticks")
        return {"resume_s": round(resume_s, 2), "tick_at_kill": last_tick,
                "ticks_rewound": rewound, "ticks_published_twice": twice,
                "short_matches": len(short), "short_final_ticks": final_ticks}  # fmt: skip

    def _lag_and_kill(self, old: int, replica_port: int, runners: list[MatchRunner]) -> list:
        """The replica falls behind, as under load: stopped for well under the sentinels'
        down-after while 32 MiB queue ahead of the ticks (the short matches' ends among them),
        which the primary's death then takes with it. The short matches' final ticks."""
        paused = self.deployment.server_at(replica_port).proc.pid
        os.kill(paused, signal.SIGSTOP)
        try:
            primary, chunk = self.deployment.client(old), b"x" * (2 << 20)
            for _ in range(16):  # in pieces: between them the short matches renew their leases
                primary.append("chaos:ballast", chunk)
                for runner in runners:
                    runner.advance()
            final_ticks = _to_the_end(runners)
            time.sleep(0.3)
            self.deployment.server_at(old).kill()
        finally:
            os.kill(paused, signal.SIGCONT)
        return final_ticks

    def _rewound(self, match_id: int, last_tick: int) -> int | None:
        """How far behind the replica was: the last tick seen minus the tick the resumed
        runner took over at (its log line)."""
        line = rf"match {match_id}: runner \S+ took epoch (\d+) at tick (\d+)"
        taken = re.findall(line, self.worker.log())
        resumed = [int(t) for e, t in taken if int(e) > 1]
        return last_tick - resumed[-1] if resumed else None

    def _held_back(self) -> float:
        with urllib.request.urlopen(f"{self.daphne.origin}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(float(n) for n in re.findall(r"arcade_states_held_back_total\{[^}]*\} ([\d.]+)",
                                                text))  # fmt: skip
