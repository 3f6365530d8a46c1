from django.test import SimpleTestCase, override_settings

from realtime.dev import devredis


class EnsureTests(SimpleTestCase):
    @override_settings(REDIS_IS_PRIVATE=True)  # as the test run's own server usually is
    def test_a_fresh_redis_asked_for_while_one_runs_is_reported_as_not_fresh(self):
        with self.assertLogs("realtime.dev.devredis", "WARNING") as logs:
            self.assertIsNone(devredis.ensure(fresh=True))
        self.assertIn("already running", logs.output[0])
        self.assertIn("not fresh", logs.output[0])
