"""Run the whole system in the foreground: Redis, Daphne, the tick worker, the default
worker and beat, each a separate process as in production. Ctrl-C stops every one."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import BaseCommand, call_command

from realtime.dev import devredis

STOP_TIMEOUT_S = 15


def daphne_options() -> list[str]:
    """Daphne's options in every deployment: its websocket size cap near the application's
    (docs/operations.md). docker-compose.yml adds ``--proxy-headers`` behind nginx."""
    cap = str(settings.DAPHNE_MAX_MESSAGE_BYTES)
    return ["--websocket-max-message-size", cap, "--websocket-max-frame-size", cap]


def service_commands(*, host: str, port: int) -> dict[str, list[str]]:
    """The operator's commands, one per service (the same ones docker-compose.yml runs)."""
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return {
        "daphne": [sys.executable, "-m", "daphne", "-b", host, "-p", str(port),
                   *daphne_options(), "config.asgi:application"],
        "tick-worker": [*celery, "worker", "-Q", "ticks", "-P", "gevent", "-c", "500",
                        "-n", "ticks-%h", "--prefetch-multiplier", "1", "-l", "INFO"],
        "default-worker": [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default-%h",
                           "-l", "INFO"],
        "beat": [*celery, "beat", "-l", "INFO",
                 "-s", str(settings.VAR_DIR / "celerybeat-schedule")],
    }  # fmt: skip


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


class Command(BaseCommand):
    help = "Start Redis (private unless REDIS_URL is set), Daphne, both workers and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        redis_proc = devredis.ensure()
        if redis_proc:
            self.stdout.write(f"private Redis on {settings.REDIS_URL} (files in var/redis)")
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            call_command("migrate", interactive=False, verbosity=0)
            if not settings.DEBUG:
                call_command("collectstatic", interactive=False, verbosity=0)
            env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
            for name, cmd in service_commands(host=host, port=port).items():
                # A session of its own: the terminal's Ctrl-C reaches us only, and we stop
                # the services in order instead of all at once.
                procs[name] = subprocess.Popen(cmd, env=env, start_new_session=True)
            self.stdout.write(
                self.style.SUCCESS(f"Serving on http://{host}:{port}/ (Ctrl-C stops)")
            )
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping")
                        stopping = True
                time.sleep(0.2)
        finally:
            self._stop_all(procs)
            devredis.stop(redis_proc)
            self.stdout.write("stopped")

    def _stop_all(self, procs: dict[str, subprocess.Popen]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for name, proc in procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_TIMEOUT_S} s; killing it")
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
