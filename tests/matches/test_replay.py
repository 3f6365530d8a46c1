import random
from collections import deque

from django.test import SimpleTestCase

from matches import replay
from matches.titles import get_title
from realtime import store
from realtime.engine.match import MatchRunner, Outcome
from tests.support.matches import queue_input, redis_match
from tests.support.stack import flush_redis

QUICK = {
    "pong": {"score_to": 2},
    "snake": {"max_players": 3, "time_limit_s": 30},
    "arena": {"max_players": 3, "time_limit_s": 30},
}
HUMAN_INPUTS = {
    "pong": lambda rnd: {"dir": rnd.choice([-1, 0, 1])},
    "snake": lambda rnd: {"turn": rnd.choice(["up", "down", "left", "right"])},
    "arena": lambda rnd: {
        "thrust": rnd.random() < 0.5,
        "turn": rnd.choice([-1, 0, 1]),
        "fire": rnd.random() < 0.3,
    },
}


def play_live(title: str, *, players: int, bots: tuple, seed: int, forfeit_at=None):
    """Run a match through the real runner and Redis, with random human inputs."""
    flush_redis()
    redis_match(1, title=title, players=players, bots=bots, settings=QUICK[title], seed=seed)
    runner = MatchRunner(1)
    assert runner.acquire() is Outcome.CONTINUE
    rnd = random.Random(seed)
    humans = [s for s in range(players) if s not in bots]
    outcome = Outcome.CONTINUE
    while outcome is Outcome.CONTINUE:
        for slot in humans:
            if runner.state["tick"] == 0 or rnd.random() < 0.2:
                queue_input(match_id=1, slot=slot, tick=0, payload=HUMAN_INPUTS[title](rnd))
        if forfeit_at is not None and runner.state["tick"] == forfeit_at:
            store.push_forfeit(match_id=1, slot=humans[0], reason="test")
        outcome = runner.advance()
    saved = store.load_state(1)
    return saved, store.load_log(1)


class ReplayTests(SimpleTestCase):
    def test_re_simulating_a_bot_match_of_every_title_gives_the_recorded_result(self):
        for title in QUICK:
            with self.subTest(title=title):
                players = 2 if title == "pong" else 3
                bots = tuple(range(players))
                saved, log = play_live(title, players=players, bots=bots, seed=11)
                settings = get_title(title).validate_settings(QUICK[title])
                result = replay.final_result(
                    title=title, players=players, bots=bots, seed=11, settings=settings,
                    log=log, max_ticks=saved["tick"],
                )  # fmt: skip
                self.assertEqual(result, saved["result"])

    def test_re_simulation_follows_human_inputs_and_forfeits_tick_for_tick(self):
        for title in QUICK:
            with self.subTest(title=title):
                players = 2 if title == "pong" else 3
                bots = (players - 1,)
                saved, log = play_live(title, players=players, bots=bots, seed=5, forfeit_at=5)
                self.assertTrue(any(e[0] == "i" for _, entries in log for e in entries))
                self.assertTrue(any(e[0] == "f" for _, entries in log for e in entries))
                settings = get_title(title).validate_settings(QUICK[title])
                states = replay.states(
                    title=title, players=players, bots=bots, seed=5, settings=settings,
                    log=log, max_ticks=saved["tick"],
                )  # fmt: skip
                self.assertEqual(deque(states, maxlen=1)[0], saved["state"])

    def test_a_log_survives_packing(self):
        log = [[3, [["i", 0, {"dir": 1}], ["f", 1]]], [9, [["i", 1, {"dir": -1}]]]]
        blob = replay.pack_log(log)
        self.assertIsInstance(blob, bytes)
        self.assertEqual(replay.unpack_log(blob), log)

    def test_a_match_stopped_by_staff_re_simulates_to_the_last_committed_tick_and_no_further(self):
        flush_redis()
        redis_match(1, title="pong", players=2, bots=(1,), settings=QUICK["pong"], seed=3)
        runner = MatchRunner(1)
        runner.acquire()
        for tick in range(40):
            if tick % 7 == 0:
                queue_input(match_id=1, slot=0, tick=0, payload={"dir": 1 - tick % 3})
            runner.advance()
        store.request_stop(1, "staff")
        self.assertIs(runner.advance(), Outcome.STOPPED)
        saved, log = store.load_state(1), store.load_log(1)
        settings = get_title("pong").validate_settings(QUICK["pong"])
        states = replay.states(
            title="pong", players=2, bots=(1,), seed=3, settings=settings, log=log,
            max_ticks=saved["tick"],
        )  # fmt: skip
        self.assertEqual(deque(states, maxlen=1)[0], saved["state"])

    def test_a_match_with_late_inputs_re_simulates_to_the_same_final_state(self):
        flush_redis()
        redis_match(1, title="pong", players=2, bots=(1,), settings=QUICK["pong"], seed=8)
        runner = MatchRunner(1)
        runner.acquire()
        rnd = random.Random(8)
        outcome = Outcome.CONTINUE
        while outcome is Outcome.CONTINUE:
            now = runner.state["tick"]
            if rnd.random() < 0.2:
                # Some on time, some up to 10 ticks late (the runner caps it at 8).
                at = now + 1 - rnd.choice((0, 0, 1, 3, 6, 10))
                queue_input(match_id=1, slot=0, tick=now, at=at,
                            payload={"dir": rnd.choice([-1, 0, 1])})  # fmt: skip
            outcome = runner.advance()
        saved, log = store.load_state(1), store.load_log(1)
        self.assertTrue(any(len(e) == 4 for _, entries in log for e in entries))
        self.assertEqual(replay.unpack_log(replay.pack_log(log)), log)
        states = replay.states(
            title="pong", players=2, bots=(1,), seed=8,
            settings=get_title("pong").validate_settings(QUICK["pong"]), log=log,
            max_ticks=saved["tick"],
        )  # fmt: skip
        self.assertEqual(deque(states, maxlen=1)[0], saved["state"])
