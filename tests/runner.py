"""The project's test runner: the real services the tests talk to, then Django's runner.

Redis is whatever REDIS_URL names, else the private redis-server (started here, stopped at
the end). Static files are collected as in production, where the manifest storage needs them.
"""

import logging
import os

from django.conf import settings
from django.core.management import call_command
from django.test.runner import DiscoverRunner

from realtime.dev import devredis


class StackTestRunner(DiscoverRunner):
    def setup_test_environment(self, **kwargs):
        # Tests speak plain HTTP to the test client and to local servers; no TLS redirect.
        os.environ["SECURE_SSL_REDIRECT"] = "0"
        settings.SECURE_SSL_REDIRECT = False
        logging.getLogger().setLevel(logging.WARNING)
        self._redis_proc = devredis.ensure()
        call_command("collectstatic", interactive=False, verbosity=0)
        super().setup_test_environment(**kwargs)

    def teardown_test_environment(self, **kwargs):
        super().teardown_test_environment(**kwargs)
        if self._redis_proc is not None:
            devredis.stop_all()

    def build_suite(self, test_labels=None, **kwargs):
        return super().build_suite(test_labels or ["tests"], **kwargs)
