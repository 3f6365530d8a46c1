import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import SimpleTestCase, override_settings

from realtime import figures, groups, store
from realtime.engine.match import MatchRunner, Outcome
from tests.support.matches import queue_input, redis_match
from tests.support.stack import flush_redis


def running(match_id: int = 1, **kwargs) -> MatchRunner:
    redis_match(match_id, **kwargs)
    runner = MatchRunner(match_id)
    assert runner.acquire() is Outcome.CONTINUE
    return runner


def figures_process() -> str:
    return figures.process_name()


def last_state(match_id: int) -> dict:
    """The state message the gateway sends a socket that joins now."""
    stored = store.client().hget(store.key(match_id, "state"), "snapshot")
    return json.loads(groups.snapshot_text(stored))


class AdvanceTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_a_tick_advances_the_state_in_redis(self):
        runner = running()
        for _ in range(3):
            self.assertIs(runner.advance(), Outcome.CONTINUE)
        saved = store.load_state(1)
        self.assertEqual(saved["tick"], 3)
        self.assertEqual(saved["state"]["tick"], 3)
        self.assertEqual(saved["epoch"], runner.epoch)

    def test_the_published_message_is_kept_as_the_snapshot_with_the_acks_beside_it(self):
        runner = running()
        r = store.client()
        pubsub = r.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(groups.channel(groups.group_name("t1")))
        self.addCleanup(pubsub.close)
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=4)
        runner.advance()
        published = None
        for _ in range(50):
            if (message := pubsub.get_message(timeout=0.1)) is not None:
                published = message["data"]
                break
        stored = r.hget(store.key(1, "state"), "snapshot")
        self.assertEqual(stored, published)
        self.assertEqual(json.loads(groups.snapshot_text(stored))["acks"], [4, 0])
        self.assertEqual(store.load_state(1)["acks"], [4, 0])

    def test_a_tick_is_published_once_to_the_match_group_encoded_as_a_state_message(self):
        runner = running()
        layer = get_channel_layer()

        async def listen():
            channel = await layer.new_channel()
            await layer.group_add(groups.group_name("t1"), channel)
            try:
                runner.advance()
                return await layer.receive(channel)
            finally:
                await layer.group_discard(groups.group_name("t1"), channel)

        message = async_to_sync(listen)()
        self.assertEqual(message["type"], "match.state")
        body = json.loads(message["text"])
        self.assertEqual((body["type"], body["tick"], body["v"]), ("state", 1, 1))
        self.assertIn("paddles", body["state"])

    def test_queued_inputs_are_applied_on_the_next_tick(self):
        runner = running()
        queue_input(match_id=1, slot=0, tick=0, payload={"dir": 1})
        y0 = runner.state["paddles"][0]["y"]
        runner.advance()
        self.assertGreater(runner.state["paddles"][0]["y"], y0)
        self.assertEqual(store.client().llen(store.key(1, "inputs")), 0)

    def test_each_state_says_per_slot_the_last_input_seq_the_runner_applied(self):
        runner = running()
        self.assertEqual(last_state(1)["acks"], [0, 0])
        queue_input(match_id=1, slot=0, payload={"dir": 1}, seq=4)
        queue_input(match_id=1, slot=0, payload={"dir": 0}, seq=5)
        queue_input(match_id=1, slot=1, payload={"dir": -1}, seq=9)
        runner.advance()
        self.assertEqual(last_state(1)["acks"], [5, 9])
        runner.advance()
        self.assertEqual(last_state(1)["acks"], [5, 9])  # still said when nothing new came

    def test_an_input_the_runner_drops_is_not_acknowledged(self):
        runner = running()
        queue_input(match_id=1, slot=0, payload={"dir": 7}, seq=3)
        runner.advance()
        self.assertEqual(last_state(1)["acks"], [0, 0])

    def test_a_resumed_runner_carries_on_the_acks(self):
        first = running()
        queue_input(match_id=1, slot=1, payload={"dir": 1}, seq=12)
        first.advance()
        first.release()
        second = MatchRunner(1)
        self.assertIs(second.acquire(), Outcome.CONTINUE)
        second.advance()
        self.assertEqual(last_state(1)["acks"], [0, 12])

    def test_inputs_past_the_per_tick_cap_wait_for_the_next_tick(self):
        from realtime.engine.match import MAX_INPUTS_PER_TICK

        runner = running()
        for _ in range(MAX_INPUTS_PER_TICK + 5):
            queue_input(match_id=1, slot=0, tick=0, payload={"dir": 1})
        store.push_presence(match_id=1, slot=1, connected=False)
        runner.advance()
        self.assertEqual(store.client().llen(store.key(1, "inputs")), 6)
        self.assertEqual(runner.absent, {})
        runner.advance()
        self.assertEqual(store.client().llen(store.key(1, "inputs")), 0)
        self.assertEqual(set(runner.absent), {1})

    def test_a_malformed_queued_input_is_dropped_and_the_match_goes_on(self):
        runner = running()
        r = store.client()
        for raw in (b"not json", json.dumps({"slot": 5, "tick": 0, "input": {"dir": 1}}),
                    json.dumps({"slot": 0, "tick": 0, "input": {"dir": 9}})):  # fmt: skip
            r.rpush(store.key(1, "inputs"), raw)
        with self.assertLogs("realtime.engine.match", "WARNING") as logs:
            self.assertIs(runner.advance(), Outcome.CONTINUE)
        self.assertEqual(len(logs.records), 3)
        self.assertEqual(runner.state["paddles"][0]["dir"], 0)

    def test_bots_play_their_slots(self):
        runner = running(bots=(0, 1))
        moves = 0
        for _ in range(300):
            runner.advance()
            moves += sum(1 for p in runner.state["paddles"] if p["dir"] != 0)
        self.assertGreater(moves, 10)

    def test_a_second_runner_cannot_take_a_held_lease(self):
        running()
        self.assertIs(MatchRunner(1).acquire(), Outcome.BUSY)

    def test_a_match_without_state_is_reported_missing(self):
        self.assertIs(MatchRunner(42).acquire(), Outcome.MISSING)

    def test_a_stale_runner_is_fenced_off_after_another_took_over(self):
        stale = running()
        stale.advance()
        store.client().delete(store.key(1, "lease"))  # its lease expired
        fresh = MatchRunner(1)
        self.assertIs(fresh.acquire(), Outcome.CONTINUE)
        self.assertEqual(fresh.epoch, stale.epoch + 1)
        fresh.advance()
        self.assertIs(stale.advance(), Outcome.LEASE_LOST)
        saved = store.load_state(1)
        self.assertEqual((saved["tick"], saved["epoch"]), (2, fresh.epoch))

    def test_the_fence_refuses_a_write_from_an_old_epoch_even_with_the_right_token(self):
        # After a Redis failover the old token can reappear; the epoch still tells them apart.
        runner = running()
        store.client().incr(store.key(1, "epoch"))
        self.assertIs(runner.advance(), Outcome.LEASE_LOST)
        self.assertEqual(store.load_state(1)["tick"], 0)

    def test_a_stop_request_ends_the_loop_without_writing(self):
        runner = running()
        store.request_stop(1, "staff")
        self.assertIs(runner.advance(), Outcome.STOPPED)
        self.assertEqual(store.load_state(1)["tick"], 0)

    def test_a_finished_match_writes_its_result_and_is_indexed_for_retention(self):
        runner = running(settings={"score_to": 1})
        outcome = Outcome.CONTINUE
        for _ in range(30 * 60):
            outcome = runner.advance()
            if outcome is not Outcome.CONTINUE:
                break
        self.assertIs(outcome, Outcome.FINISHED)
        saved = store.load_state(1)
        self.assertEqual(saved["status"], "finished")
        self.assertEqual(sorted(saved["result"]["scores"]), [0, 1])
        self.assertIsNotNone(store.client().zscore(store.FINISHED_INDEX, 1))
        self.assertIs(MatchRunner(1).acquire(), Outcome.FINISHED)

    def test_a_resumed_runner_continues_the_tick_counter_and_the_scores(self):
        first = running()
        for _ in range(10):
            first.advance()
        first.state["scores"] = [3, 2]
        first.advance()
        first.release()
        second = MatchRunner(1)
        self.assertIs(second.acquire(), Outcome.CONTINUE)
        self.assertEqual(second.state["tick"], 11)
        self.assertEqual(second.state["scores"], [3, 2])
        second.advance()
        self.assertEqual(store.load_state(1)["tick"], 12)


@override_settings(MATCH_LEASE_TTL_S=0.2)
class LeaseExpiryTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_the_lease_expires_when_the_runner_stops_renewing_it(self):
        import time

        running()
        self.assertIsNotNone(store.lease_holder(1))
        time.sleep(0.35)
        self.assertIsNone(store.lease_holder(1))


class PresenceTests(SimpleTestCase):
    def setUp(self):
        flush_redis()

    def test_pong_pauses_while_a_player_is_away_and_resumes_when_they_return(self):
        runner = running()
        runner.advance()
        store.push_presence(match_id=1, slot=1, connected=False)
        runner.advance()
        runner.advance()
        self.assertEqual(runner.state["tick"], 1)
        self.assertEqual(store.load_state(1)["absent"].keys(), {1})
        snapshot = last_state(1)
        self.assertEqual(snapshot["paused"], [1])
        store.push_presence(match_id=1, slot=1, connected=True)
        runner.advance()
        self.assertEqual(runner.state["tick"], 2)
        self.assertEqual(store.load_state(1)["absent"], {})

    def test_snake_plays_on_while_a_player_is_away(self):
        runner = running(title="snake", players=2)
        store.push_presence(match_id=1, slot=0, connected=False)
        runner.advance()
        runner.advance()
        self.assertEqual(runner.state["tick"], 2)

    @override_settings(RECONNECT_GRACE_S=0.0)
    def test_a_player_away_past_the_grace_period_forfeits(self):
        runner = running()
        store.push_presence(match_id=1, slot=0, connected=False, at=1.0)
        self.assertIs(runner.advance(), Outcome.FINISHED)
        result = store.load_state(1)["result"]
        self.assertEqual(result["winner"], 1)

    def test_the_away_clock_survives_a_change_of_runner(self):
        import time

        first = running()
        left_at = time.time() - 5
        store.push_presence(match_id=1, slot=0, connected=False, at=left_at)
        first.advance()
        first.release()
        second = MatchRunner(1)
        second.acquire()
        self.assertEqual(second.absent, {0: left_at})


class TickStatsWindowTests(SimpleTestCase):
    def test_a_window_holds_only_what_was_recorded_since_and_never_goes_negative(self):
        from realtime.engine.stats import TickStats

        before = TickStats()
        before.record(jitter_ms=0.5, duration_ms=1.0, period_ms=33.3)
        after = TickStats.from_json(before.to_json())
        after.record(jitter_ms=2.0, duration_ms=40.0, period_ms=33.3)
        window = after.since(before)
        self.assertEqual((window.ticks, window.overruns), (1, 1))
        self.assertEqual(sum(window.jitter_hist), 1)
        self.assertEqual(window.jitter_hist[20], 1)
        self.assertEqual(sum(TickStats().since(after).jitter_hist), 0)


class SparklineHistoryTests(SimpleTestCase):
    """The stats flush's sparkline samples (m:{id}:spark), on the runner in-process."""

    def setUp(self):
        flush_redis()
        redis_match(1)
        self.now = 1000.0
        self.runner = MatchRunner(1, clock=lambda: self.now)
        assert self.runner.acquire() is Outcome.CONTINUE

    def flush(self, *, after_s: float = 1.0, ticks: int = 0) -> None:
        for _ in range(ticks):
            self.runner.stats.record(jitter_ms=2.0, duration_ms=0.5, period_ms=33.3)
        self.now += after_s
        self.runner.flush_stats()

    def test_each_flush_appends_the_means_since_the_last_and_the_sockets_open(self):
        r = store.client()
        r.hset(store.key(1, "sockets"), "0", "specific.channel!a")
        r.hset(store.key(1, "rtt"), mapping={"0": 12, "spectator:b": 30, "spectator:c": 31})
        self.flush(ticks=30)
        self.flush(ticks=0)
        first, second = store.load_spark(1)
        self.assertEqual(first[1:], [0.5, 2.0, 3])  # one player's socket, two spectators
        self.assertEqual(second[1:], [0.0, 0.0, 3])  # no tick ran: nothing to average
        self.assertGreaterEqual(second[0], first[0])
        ttl = r.ttl(store.key(1, "spark"))
        self.assertTrue(0 < ttl <= store.SPARK_TTL_S, ttl)

    def test_a_flush_right_after_another_adds_no_sample(self):
        self.flush()
        self.flush(after_s=0.1)  # the release's flush, say
        self.assertEqual(len(store.load_spark(1)), 1)

    def test_the_history_is_capped_to_the_newest_samples(self):
        for index in range(store.SPARK_SAMPLES + 7):
            self.flush(ticks=1 if index == store.SPARK_SAMPLES + 6 else 0)
        samples = store.load_spark(1)
        self.assertEqual(len(samples), store.SPARK_SAMPLES)
        self.assertEqual(samples[-1][1:3], [0.5, 2.0])  # the newest is kept

    def test_a_cut_off_runners_late_flush_leaves_its_successors_figures_alone(self):
        r = store.client()
        self.flush(ticks=30)
        r.delete(store.key(1, "lease"))  # its lease expired while it was cut off
        fresh = MatchRunner(1, clock=lambda: self.now)
        self.assertIs(fresh.acquire(), Outcome.CONTINUE)
        fresh.flush_stats()
        figures = r.hgetall(store.key(1, "stats"))
        samples = store.load_spark(1)
        self.flush(ticks=90)  # the stale runner's flush arrives late
        self.assertEqual(r.hgetall(store.key(1, "stats")), figures)
        self.assertEqual(store.load_spark(1), samples)
        # Its process still counts the ticks it ran.
        counts = r.hgetall(store.process_key(figures_process()))
        self.assertEqual(int(counts[b"c:ticks"]), 120)

    def test_dropping_the_match_drops_its_history(self):
        self.flush()
        store.drop_match(1)
        self.assertEqual(store.load_spark(1), [])
