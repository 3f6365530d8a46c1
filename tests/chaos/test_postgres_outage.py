"""PostgreSQL down for 30 s while matches finish, on a private cluster this test makes: the
matches end in Redis meanwhile, and once the database is back every result is written, none
lost and none twice, although the outage outlasts MATCH_RETENTION_S."""

import json
import subprocess
import sys
import time

from django.test import TransactionTestCase

from matches.models import Match
from realtime import store
from tests.chaos.results import scenario
from tests.support import stack
from tests.support.postgres import Cluster

MATCHES = 4
OUTAGE_S = 30.0
RETENTION_S = 5.0

CREATE = """
import json
from tests.support.matches import counting_down
ids = [counting_down("pong", names=(f"p{i}",), fill_with_bots=True,
                     settings={"score_to": 1}).pk for i in range(%d)]
print(json.dumps(ids))
"""


def _manage(database_url: str, *args: str) -> str:
    """manage.py in a child on the private cluster's database; its output."""
    env = stack.service_env(DATABASE_URL=database_url)
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=stack.ROOT, env=env,
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    if done.returncode:
        raise AssertionError(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class PostgresOutageTests(TransactionTestCase):
    def setUp(self):
        stack.flush_redis()
        self.pg = Cluster()
        self.addCleanup(self.pg.remove)
        self.url = self.pg.create_database("arcade_chaos")
        _manage(self.url, "migrate", "--noinput", "-v", "0")
        env = {"DATABASE_URL": self.url, "MATCH_RETENTION_S": str(RETENTION_S)}
        workers = [stack.tick_worker("ticks-pg", **env), stack.default_worker("default-pg", **env)]
        self.services = [*workers, stack.beat("beat-pg", **env)]
        for service in self.services:
            self.addCleanup(service.stop)
        stack.wait_ready(*workers)

    def rows(self, sql: str, ids: list[int]) -> int:
        with self.pg.connect("arcade_chaos") as conn:
            return conn.execute(sql, [ids]).fetchone()[0]

    @scenario("postgres_down_30_s")
    def test_matches_that_finish_while_postgresql_is_down_get_their_results_once_it_is_back(self):
        created = _manage(self.url, "shell", "-c", CREATE % MATCHES)
        ids = json.loads(created.strip().splitlines()[-1])
        stack.wait_for(lambda: all(store.load_state(m) for m in ids), timeout=15,
                       what="every match to run")  # fmt: skip
        self.pg.stop()
        down_at = time.monotonic()

        def over_in_redis() -> bool:
            return all(store.load_state(m)["status"] == "finished" for m in ids)

        stack.wait_for(over_in_redis, timeout=OUTAGE_S - 2, interval=0.2,
                       what="the matches to finish while the database is down")  # fmt: skip
        self.assertFalse(self.pg.up())
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        ended = [score for _, score in store.client().zrange(store.FINISHED_INDEX, 0, -1,
                                                               withscores=True)]  # fmt: skip
        self.pg.start()
        up_at = time.monotonic()
        # The outage outlasted the retention: every final state was past it before the restart.
        self.assertLess(max(ended), time.time() - RETENTION_S)
        finished = Match.Status.FINISHED.value
        count_finished = "SELECT count(*) FROM matches_match WHERE id = ANY(%s) AND status = '"
        count_finished += finished + "'"
        stack.wait_for(lambda: self.rows(count_finished, ids) == len(ids), timeout=20,
                       interval=0.2, what="every result in the database")  # fmt: skip
        written_s = time.monotonic() - up_at
        replays = self.rows("SELECT count(*) FROM matches_replay WHERE match_id = ANY(%s)", ids)
        results = self.rows("SELECT count(*) FROM matches_participation WHERE match_id = ANY(%s)"
                            " AND result IN ('win', 'loss')", ids)  # fmt: skip
        self.assertEqual(replays, len(ids))
        self.assertEqual(results, 2 * len(ids))
        # Now that the database has them, the retention drops their keys.
        stack.wait_for(lambda: not any(store.load_state(m) for m in ids), timeout=10,
                       interval=0.2, what="the finished matches' keys to be dropped")  # fmt: skip
        print(f"\n  PostgreSQL down {OUTAGE_S:.0f} s: {len(ids)} matches ended meanwhile, "
              f"their results written {written_s:.2f} s after it was back")  # fmt: skip
        return {"outage_s": OUTAGE_S, "retention_s": RETENTION_S, "matches": len(ids),
                "results_written_after_up_s": round(written_s, 2),
                "results_lost": len(ids) - replays, "results_doubled": max(0, replays - len(ids)),
                "participation_results": results}  # fmt: skip
