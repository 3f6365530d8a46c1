"""The match engine on real processes: Celery tick workers (gevent pool), beat, the default
worker and Redis, as an operator runs them."""

import asyncio
import json
import signal
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import TransactionTestCase

from matches.models import Match
from realtime import groups, store
from realtime.engine import supervisor
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.matches import counting_down

Status = Match.Status


async def _collect(group: str, seconds: float, first_timeout: float = 10.0) -> list[tuple]:
    """(arrival time, tick) of every state message on ``group`` for ``seconds`` after the first."""
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    seen = []
    try:
        message = await asyncio.wait_for(layer.receive(channel), first_timeout)
        end = loop.time() + seconds
        seen.append((loop.time(), json.loads(message["text"])["tick"]))
        while (remaining := end - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(layer.receive(channel), remaining)
            except TimeoutError:
                break
            seen.append((loop.time(), json.loads(message["text"])["tick"]))
    finally:
        await layer.group_discard(group, channel)
    return seen


class Listener(threading.Thread):
    """Collects a group's ticks in the background (its own event loop) while a test acts."""

    def __init__(self, group: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.group, self.seconds, self.ticks = group, seconds, []

    def run(self) -> None:
        self.ticks = [tick for _, tick in async_to_sync(_collect)(self.group, self.seconds)]


def holder_pid(match_id: int) -> int | None:
    token = store.lease_holder(match_id)
    return int(token.split(":")[1]) if token else None


def wait_resumed(match_id: int, *, by: stack.Service, past_tick: int, since: float) -> float:
    """Seconds from ``since`` until ``by`` holds the match's lease and ticks pass ``past_tick``."""
    stack.wait_for(lambda: holder_pid(match_id) == by.pid, timeout=6,
                   what=f"{by.name} to take the lease")  # fmt: skip
    stack.wait_for(lambda: store.load_state(match_id)["tick"] > past_tick, timeout=5,
                   what="ticks to advance again")  # fmt: skip
    return time.monotonic() - since


class EngineLiveTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.services: list[stack.Service] = []

    def tearDown(self):
        for service in self.services:
            service.stop()

    def start(self, *services: stack.Service) -> None:
        self.services.extend(services)
        workers = [s for s in services if not s.name.startswith("beat")]
        if workers:
            stack.wait_ready(*workers)

    def test_a_pong_match_runs_at_30_hz_and_every_tick_reaches_the_group_in_order(self):
        self.start(stack.tick_worker("ticks1"))
        match = counting_down()
        supervisor.begin(match.pk)
        listener = Listener(groups.group_name(match.public_id), seconds=5.5)
        listener.start()
        stack.wait_for(lambda: store.load_state(match.pk)["tick"] > 0, timeout=10,
                       what="the first tick")  # fmt: skip
        start_tick, started = store.load_state(match.pk)["tick"], time.monotonic()
        time.sleep(5.0)
        end_tick, ended = store.load_state(match.pk)["tick"], time.monotonic()
        listener.join(10)
        ran = (end_tick - start_tick) * 5.0 / (ended - started)
        ticks = listener.ticks
        print(
            f"\n  5 s of Pong: {ran:.1f} ticks run (expected 150 ± 2); "
            f"{len(ticks)} delivered to the group, contiguous: "
            f"{ticks == list(range(ticks[0], ticks[0] + len(ticks)))}"
        )
        self.assertAlmostEqual(ran, 150, delta=2)
        self.assertGreater(len(ticks), 150)
        self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))))

    @scenario("tick_worker_sigkill")
    def test_a_killed_worker_s_match_resumes_on_another_within_3_s_with_its_ticks_and_scores(self):
        a, b = stack.tick_worker("ticks1"), stack.tick_worker("ticks2")
        self.start(a, b, stack.default_worker(), stack.beat())
        # A bot against an idle player: points come quickly, so there are scores to keep.
        match = counting_down(names=("idle",), fill_with_bots=True)
        stack.wait_for(lambda: holder_pid(match.pk), timeout=10, what="the match to start")
        stack.wait_for(lambda: sum(store.load_state(match.pk)["state"]["scores"]) >= 1,
                       timeout=30, what="a point to be scored")  # fmt: skip
        listener = Listener(groups.group_name(match.public_id), seconds=6)
        listener.start()
        time.sleep(0.5)
        victim = a if holder_pid(match.pk) == a.pid else b
        victim.signal(signal.SIGKILL)
        killed_at = time.monotonic()
        before = store.load_state(match.pk)
        survivor = b if victim is a else a
        resumed_after = wait_resumed(match.pk, by=survivor, past_tick=before["tick"],
                                     since=killed_at)  # fmt: skip
        after = store.load_state(match.pk)
        listener.join(10)
        print(
            f"\n  SIGKILL: resumed after {resumed_after:.2f} s at tick {before['tick']} → "
            f"{after['tick']}, scores {before['state']['scores']} → {after['state']['scores']}"
        )
        self.assertLess(resumed_after, 3.0)
        self.assertGreater(after["epoch"], before["epoch"])
        for was, now in zip(before["state"]["scores"], after["state"]["scores"], strict=True):
            self.assertGreaterEqual(now, was)
        # Across the hand-over every tick was published once, in order: none applied twice.
        ticks = listener.ticks
        self.assertEqual(ticks, sorted(set(ticks)))
        self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))))
        return {"resumed_after_s": round(resumed_after, 2), "tick_at_kill": before["tick"],
                "ticks_published_twice": len(ticks) - len(set(ticks))}  # fmt: skip

    @scenario("tick_worker_sigterm")
    def test_sigterm_hands_a_match_over_to_another_worker_within_2_s(self):
        a, b = stack.tick_worker("ticks1"), stack.tick_worker("ticks2")
        self.start(a, b)
        match = counting_down()
        supervisor.begin(match.pk)
        stack.wait_for(lambda: holder_pid(match.pk), timeout=10, what="the match to start")
        time.sleep(0.5)
        leaving = a if holder_pid(match.pk) == a.pid else b
        staying = b if leaving is a else a
        tick_before = store.load_state(match.pk)["tick"]
        leaving.signal(signal.SIGTERM)
        sent_at = time.monotonic()
        stack.wait_for(lambda: holder_pid(match.pk) == staying.pid, timeout=5,
                       what="the other worker to take over")  # fmt: skip
        stack.wait_for(lambda: store.load_state(match.pk)["tick"] > tick_before + 1, timeout=5,
                       what="ticks to advance")  # fmt: skip
        handed_over = time.monotonic() - sent_at
        print(f"\n  SIGTERM: handed over in {handed_over:.2f} s")
        self.assertLess(handed_over, 2.0)
        leaving.proc.wait(timeout=10)
        self.assertEqual(leaving.proc.returncode, 0, leaving.log()[-2000:])
        return {"handed_over_after_s": round(handed_over, 2)}

    def test_matches_spread_across_the_tick_workers_sharing_a_redis(self):
        from realtime.engine.tasks import run_match
        from tests.support.matches import redis_match

        a, b = stack.tick_worker("ticks1"), stack.tick_worker("ticks2")
        self.start(a, b)
        ids = list(range(101, 113))
        for match_id in ids:
            redis_match(match_id)
            run_match.delay(match_id)
        stack.wait_for(lambda: all(holder_pid(m) for m in ids), timeout=10,
                       what="every match to be running")  # fmt: skip
        per_worker = {pid: sum(1 for m in ids if holder_pid(m) == pid) for pid in (a.pid, b.pid)}
        print(f"\n  12 matches over 2 workers: {sorted(per_worker.values())}")
        self.assertEqual(sum(per_worker.values()), len(ids))
        self.assertGreaterEqual(min(per_worker.values()), 3)

    def test_a_busy_worker_still_takes_new_matches_at_once(self):
        from realtime.engine.tasks import run_match
        from tests.support.matches import redis_match

        worker = stack.tick_worker("ticks1", concurrency=160)
        self.start(worker)
        ids = list(range(201, 351))
        for match_id in ids:
            redis_match(match_id, bots=(0, 1))
            run_match.delay(match_id)
        # The scheduler loop ticks the first ones while the rest arrive; the worker's consumer
        # still gets its turns.
        stack.wait_for(lambda: all(holder_pid(m) for m in ids), timeout=8,
                       what="all 150 matches to be running")  # fmt: skip

    @scenario("two_runners_contend")
    def test_two_beats_and_duplicate_dispatches_never_make_two_writers(self):
        from realtime.engine.tasks import run_match

        a, b = stack.tick_worker("ticks1"), stack.tick_worker("ticks2")
        self.start(a, b, stack.default_worker(), stack.beat("beat1"), stack.beat("beat2"))
        matches = [counting_down(names=(f"p{i}", f"q{i}")) for i in range(4)]
        stack.wait_for(lambda: all(holder_pid(m.pk) for m in matches), timeout=10,
                       what="every match to run")  # fmt: skip
        listeners = [Listener(groups.group_name(m.public_id), seconds=5) for m in matches]
        for listener in listeners:
            listener.start()
        for match in matches:  # each match handed to the workers twice more
            run_match.delay(match.pk)
            run_match.delay(match.pk)
        for listener in listeners:
            listener.join(10)
        epochs = [store.load_state(m.pk)["epoch"] for m in matches]
        for listener in listeners:
            ticks = listener.ticks
            self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))))
        self.assertEqual(epochs, [1] * len(matches))
        return {"matches": len(matches), "extra_dispatches": 2 * len(matches),
                "lease_acquisitions_per_match": epochs,
                "ticks_published_twice": 0}  # fmt: skip

    def test_a_match_played_to_its_end_is_finished_in_the_database_by_the_workers(self):
        self.start(stack.tick_worker("ticks1"), stack.default_worker(), stack.beat())
        match = counting_down("pong", names=("idle",), fill_with_bots=True,
                              settings={"score_to": 1})  # fmt: skip

        def finished():
            match.refresh_from_db()
            return match.status == Status.FINISHED

        stack.wait_for(finished, timeout=30, interval=0.2, what="the match to finish")
        self.assertEqual(match.summary["scores"], [0, 1])
        self.assertGreater(match.summary["stats"]["ticks"], 0)
        self.assertEqual(match.participations.get(slot=0).result, "loss")
