from django.test import SimpleTestCase

from realtime.gateway.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TokenBucketTests(SimpleTestCase):
    def test_a_burst_is_allowed_then_the_sustained_rate(self):
        clock = Clock()
        bucket = TokenBucket(rate=10, burst=20, clock=clock)
        self.assertEqual(sum(bucket.take() for _ in range(30)), 20)
        clock.now += 0.5
        self.assertEqual(sum(bucket.take() for _ in range(30)), 5)

    def test_an_idle_bucket_refills_only_up_to_the_burst(self):
        clock = Clock()
        bucket = TokenBucket(rate=10, burst=3, clock=clock)
        clock.now += 3600
        self.assertEqual(sum(bucket.take() for _ in range(10)), 3)
