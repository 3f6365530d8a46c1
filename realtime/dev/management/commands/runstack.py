"""Run the whole system in the foreground: Redis, Daphne, the tick worker, the default worker
and beat, each a separate process as in production. Each line a service prints comes out
after its name (in colour on a terminal); Ctrl-C stops every one within 5 s."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management import BaseCommand, call_command

from realtime.dev import devredis

STOP_TIMEOUT_S = 3.5  # then the stragglers are killed; Redis goes last, by STOP_ALL_S
STOP_ALL_S = 4.5  # everything, Redis included: Ctrl-C is done within 5 s
COLOURS = ("36", "33", "35", "32", "34")  # ANSI cyan, yellow, magenta, green, blue


def daphne_options() -> list[str]:
    """Daphne's options in every deployment: its websocket size cap near the application's
    and its keepalive ping (docs/operations.md). docker-compose.yml adds ``--proxy-headers``
    behind nginx."""
    cap = str(settings.DAPHNE_MAX_MESSAGE_BYTES)
    # A silent client is pinged every 3 s, so a proxy can tell a dead replica from a quiet
    # socket by its read timeout (deploy/nginx.conf, /ws/).
    return ["--websocket-max-message-size", cap, "--websocket-max-frame-size", cap,
            "--ping-interval", "3"]  # fmt: skip


def service_commands(*, host: str, port: int) -> dict[str, list[str]]:
    """The operator's commands, one per service (the same ones docker-compose.yml runs)."""
    # -q: no start-up banner per worker (ours has the URLs); each service's own lines stay.
    celery = [sys.executable, "-m", "celery", "-A", "config", "-q"]
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


def banner(*, host: str, port: int) -> str:
    origin = f"http://{host}:{port}"
    return "\n".join((
        "Arcade is running (Ctrl-C stops everything):",
        f"  game     {origin}/",
        f"  admin    {origin}/admin/    a staff account: python manage.py createsuperuser",
        f"  metrics  {origin}/metrics   (this Daphne's own: {origin}/metrics/process)",
    ))  # fmt: skip


class Prefixer:
    """Copies each service's output to ours line by line, after the service's name."""

    def __init__(self, names: list[str], *, colour: bool) -> None:
        width = max(len(name) for name in names)
        self.prefixes = {}
        for i, name in enumerate(names):
            label = f"{name:<{width}} | "
            self.prefixes[name] = (
                f"\033[{COLOURS[i % len(COLOURS)]}m{label}\033[0m" if colour else label
            )
        self.lock = threading.Lock()

    def follow(self, name: str, stream) -> threading.Thread:
        thread = threading.Thread(target=self._copy, args=(name, stream), daemon=True)
        thread.start()
        return thread

    def _copy(self, name: str, stream) -> None:
        prefix = self.prefixes[name]
        for raw in iter(stream.readline, b""):
            with self.lock:
                sys.stdout.write(f"{prefix}{raw.decode(errors='replace').rstrip()}\n")
                sys.stdout.flush()


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
        readers: list[threading.Thread] = []
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
            env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
            commands = service_commands(host=host, port=port)
            colour = sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR"))
            prefixer = Prefixer(list(commands), colour=colour)
            for name, cmd in commands.items():
                # A session of its own: the terminal's Ctrl-C reaches us only, and we stop
                # the services ourselves.
                procs[name] = proc = subprocess.Popen(
                    cmd, env=env, start_new_session=True,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )  # fmt: skip
                readers.append(prefixer.follow(name, proc.stdout))
            self.stdout.write(self.style.SUCCESS(banner(host=host, port=port)))
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping")
                        stopping = True
                time.sleep(0.2)
        finally:
            deadline = time.monotonic() + STOP_ALL_S
            self._stop_all(procs)
            for reader in readers:  # their last lines before ours
                reader.join(timeout=max(0.0, min(0.5, deadline - 0.5 - time.monotonic())))
            devredis.stop(redis_proc, timeout=max(0.1, deadline - time.monotonic()))
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
