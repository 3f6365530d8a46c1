"""The benchmarks' stack (realtime/dev/benchstack.py) stops what it started, even when the
benchmark itself is killed."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import psutil
from django.test import SimpleTestCase

from tests.support import stack


class StackStopsTests(SimpleTestCase):
    def test_a_sigterm_to_the_bench_stops_its_daphne_workers_beat_and_redis(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
            env.update(VAR_DIR=tmp, DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3", DEBUG="1",
                       PRIVATE_REDIS_PORT=str(stack.free_port()))  # fmt: skip
            port = stack.free_port()
            bench = subprocess.Popen(
                [sys.executable, "manage.py", "bench_capacity", "--fixed-matches", "1",
                 "--samples", "1", "--seconds", "120", "--settle", "1", "--processes", "1",
                 "--port", str(port)],
                cwd=stack.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.addCleanup(lambda: bench.poll() is None and bench.kill())
            stack.wait_for(lambda: _answers(port), timeout=90, interval=0.5, what="Daphne")
            time.sleep(3)  # the workers, beat and the load are up too
            started = psutil.Process(bench.pid).children(recursive=True)
            names = " ".join(" ".join(p.cmdline()) for p in started)
            for part in ("daphne", "-Q ticks", "-Q default", "beat", "redis-server"):
                self.assertIn(part, names)
            bench.send_signal(signal.SIGTERM)
            bench.wait(timeout=60)
            _, alive = psutil.wait_procs(started, timeout=20)
            for proc in alive:
                proc.kill()
        self.assertEqual(alive, [])


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return True
    except OSError:
        return False
