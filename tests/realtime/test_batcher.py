import threading

from django.test import SimpleTestCase
from redis.exceptions import ResponseError

from realtime import state as store
from realtime.batcher import Batcher
from tests.support.stack import flush_redis


class BatcherTests(SimpleTestCase):
    def setUp(self):
        flush_redis()
        self.redis = store.client()
        self.take = store.scripts().take_inputs

    def _concurrent_takes(self, batcher: Batcher, n: int) -> list:
        for i in range(n):
            self.redis.rpush(f"q{i}", f"item-{i}-a", f"item-{i}-b")
        results = [None] * n
        start = threading.Barrier(n)

        def call(i: int) -> None:
            start.wait()
            results[i] = batcher.call(self.take, keys=[f"q{i}"], args=[10])

        threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        return results

    def test_every_caller_gets_its_own_result(self):
        results = self._concurrent_takes(Batcher(self.redis), 12)
        self.assertEqual(results, [[f"item-{i}-a".encode(), f"item-{i}-b".encode()]
                                   for i in range(12)])  # fmt: skip

    def test_calls_made_within_the_window_share_one_pipeline(self):
        batcher = Batcher(self.redis, window_s=0.2)
        results = self._concurrent_takes(batcher, 20)
        self.assertEqual(len([r for r in results if r]), 20)
        self.assertEqual(batcher.flushes, 1)

    def test_a_failing_script_call_raises_in_its_caller_only(self):
        batcher = Batcher(self.redis)
        self.redis.set("not-a-list", "x")
        with self.assertRaises(ResponseError):
            batcher.call(self.take, keys=["not-a-list"], args=[10])
        self.redis.rpush("fine", "y")
        self.assertEqual(batcher.call(self.take, keys=["fine"], args=[10]), [b"y"])
