"""The supervisor pass at scale: N running matches (database rows and their Redis state, each
with a live lease), timed passes of ``supervise_once`` and the Redis CPU they cost; beside it,
the one-round-trip-per-match lease check the pass did before it was batched."""

import statistics
import time

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command

from matches.models import Match
from matches.titles import get_title
from realtime import groups, store
from realtime.dev import devredis
from realtime.engine import supervisor

BASE_ID = 900_000_000  # far above any real match id (as bench_ticks)


def redis_cpu_s() -> float:
    info = store.client().info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


class Command(BaseCommand):
    help = "Benchmark the supervisor pass with N running matches' database rows and Redis state."

    def add_arguments(self, parser):
        parser.add_argument("--matches", type=int, default=10_000)
        parser.add_argument("--passes", type=int, default=20)

    def handle(self, *args, matches: int, passes: int, **opts):
        redis_proc = devredis.ensure(fresh=True)
        if redis_proc is None:  # it flushes its Redis at the end: never someone else's
            raise CommandError(f"{settings.REDIS_URL} is already running; give the bench a "
                               "PRIVATE_REDIS_PORT of its own")  # fmt: skip
        call_command("migrate", verbosity=0)
        ids = [BASE_ID + i for i in range(matches)]
        try:
            self._populate(ids)
            wall, cpu = [], []
            for _ in range(passes):
                cpu0, t0 = redis_cpu_s(), time.perf_counter()
                report = supervisor.supervise_once()
                wall.append((time.perf_counter() - t0) * 1000)
                cpu.append((redis_cpu_s() - cpu0) * 1000)
                assert report["dispatched"] == report["aborted"] == 0, report
                time.sleep(0.05)
            t0 = time.perf_counter()
            for match_id in ids:  # what the unbatched pass did per match, at the least
                store.lease_holder(match_id)
            unbatched = (time.perf_counter() - t0) * 1000
            self.stdout.write(
                f"{matches} running matches, {passes} passes: supervise_once median "
                f"{statistics.median(wall):.1f} ms, max {max(wall):.1f} ms; Redis CPU per pass "
                f"median {statistics.median(cpu):.1f} ms (INFO cpu, 10 ms resolution); one GET "
                f"per match, unbatched: {unbatched:.0f} ms"
            )
        finally:
            Match.objects.filter(pk__gte=BASE_ID).delete()
            store.client().flushdb()
            devredis.stop(redis_proc)

    def _populate(self, ids: list[int]) -> None:
        title = get_title("pong")
        state = title.initial_state(players=2, seed=1, settings=title.validate_settings({}))
        snapshot = groups.first_snapshot(title=title, state=state, players=2)
        Match.objects.filter(pk__gte=BASE_ID).delete()
        Match.objects.bulk_create(
            [Match(pk=match_id, title="pong", rules_version=title.version,
                   status=Match.Status.RUNNING, tick_hz=title.tick_hz, max_players=2)
             for match_id in ids],
            batch_size=1000,
        )  # fmt: skip
        for i, match_id in enumerate(ids):
            meta = store.Meta(match_id=match_id, public_id=f"sup{i}", title="pong",
                              tick_hz=title.tick_hz, players=2, bots=(0, 1))  # fmt: skip
            store.init_match(meta=meta, state=state, snapshot=snapshot)
        r = store.client()
        for start in range(0, len(ids), 1000):
            pipe = r.pipeline(transaction=False)
            for match_id in ids[start : start + 1000]:
                pipe.set(store.key(match_id, "lease"), "bench", px=600_000)
            pipe.execute()
