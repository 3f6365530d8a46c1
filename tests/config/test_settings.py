import os
import subprocess
import sys
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "SECURE_SSL_REDIRECT"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


class DeploymentSettingsTests(SimpleTestCase):
    def test_the_deploy_check_passes_with_production_settings(self):
        result = manage(
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            DEBUG="0",
            SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
            ALLOWED_HOSTS="example.com",
        )
        self.assertEqual(result.returncode, 0, result.stderr + result.stdout)

    def test_production_refuses_to_start_without_a_secret_key(self):
        result = manage("check", DEBUG="0")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SECRET_KEY must be set", result.stderr)

    def test_a_malformed_boolean_setting_is_refused(self):
        result = manage("check", DEBUG="maybe")
        self.assertIn("DEBUG must be a boolean", result.stderr)

    def test_a_tick_worker_needs_at_least_one_phase_slot(self):
        result = manage("check", DEBUG="1", TICK_PHASE_SLOTS="0")
        self.assertIn("TICK_PHASE_SLOTS must be at least 1", result.stderr)
        result = manage("check", DEBUG="1", TICK_PHASE_SLOTS="eight")
        self.assertIn("TICK_PHASE_SLOTS must be a whole number", result.stderr)
