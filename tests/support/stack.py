"""Real processes for live tests: Celery workers and beat, started as an operator would.

They talk to the same Redis as the tests and to the test database, so the test case must be
a TransactionTestCase (committed rows are visible to them).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from realtime import store
from tests.support.netns import in_netns

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = Path(settings.VAR_DIR) / "test-logs"


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def redis_env() -> dict[str, str]:
    """The REDIS_* settings of this process, as environment variables for a child."""
    return {
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_TLS_CA_FILE": settings.REDIS_TLS_CA_FILE,
        "REDIS_TLS_CERT_FILE": settings.REDIS_TLS_CERT_FILE,
        "REDIS_TLS_KEY_FILE": settings.REDIS_TLS_KEY_FILE,
        "REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in settings.REDIS_SENTINELS),
        "REDIS_SENTINEL_MASTER": settings.REDIS_SENTINEL_MASTER,
        "REDIS_SENTINEL_PASSWORD": settings.REDIS_SENTINEL_PASSWORD,
    }


def service_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        **redis_env(),
        "MATCH_LEASE_TTL_S": str(settings.MATCH_LEASE_TTL_S),
        "SUPERVISOR_INTERVAL_S": str(settings.SUPERVISOR_INTERVAL_S),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Service:
    """One child process with its own process group and a log file under var/test-logs/;
    with ``netns``, run inside that network namespace (tests/support/netns.py)."""

    def __init__(self, name: str, argv: list[str], *, netns: str | None = None,
                 **env: str) -> None:  # fmt: skip
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            in_netns(netns, argv), cwd=ROOT, env=service_env(**env), stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def celery(name: str, *args: str, netns: str | None = None, **env: str) -> Service:
    argv = [sys.executable, "-m", "celery", "-A", "config", *args]
    return Service(name, argv, netns=netns, **env)


def tick_worker(name: str = "ticks1", concurrency: int = 200, **env: str) -> Service:
    return celery(name, "worker", "-Q", "ticks", "-P", "gevent", "-c", str(concurrency),
                  "-n", f"{name}@%h", "--prefetch-multiplier", "1", "-l", "INFO",
                  **env)  # fmt: skip


def default_worker(name: str = "default1", **env: str) -> Service:
    return celery(name, "worker", "-Q", "default", "-c", "1", "-P", "solo", "-n", f"{name}@%h",
                  "-l", "INFO", **env)  # fmt: skip


def beat(name: str = "beat", **env: str) -> Service:
    schedule = LOG_DIR / f"{name}-schedule"
    return celery(name, "beat", "-l", "INFO", "-s", str(schedule), **env)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def daphne(name: str = "daphne", *, port: int | None = None, host: str = "127.0.0.1",
           netns: str | None = None, options: tuple[str, ...] = (),
           **env: str) -> Service:  # fmt: skip
    """The ASGI server on a free local port (or ``port``, to restart one where it was), bound
    to ``host`` (an address of ``netns``, if given, that this process reaches); ``.port`` and
    ``.origin`` say where. ``options``: more of Daphne's (``--proxy-headers`` behind nginx)."""
    port = port or free_port()
    # Spectators watch live unless a test asks for the delay (SPECTATOR_DELAY_S).
    env = {"ALLOWED_HOSTS": "127.0.0.1,localhost", "SPECTATOR_DELAY_S": "0", **env}
    from realtime.dev.management.commands.runstack import daphne_options

    service = Service(name, [sys.executable, "-m", "daphne", "-b", host, "-p", str(port),
                             *daphne_options(), *options, "config.asgi:application"],
                      netns=netns, **env)  # fmt: skip
    service.port = port
    service.origin = f"http://{host}:{port}"

    wait_healthy(service, service.origin, what=f"{name} on port {port}")
    return service


def wait_healthy(service: Service, origin: str, *, what: str, timeout: float = 30) -> None:
    """Wait until ``origin``/healthz answers 200 (``service`` serves it, maybe through a
    proxy); fails at once if ``service`` exits. ``service.answered_at``: the monotonic time
    the request that was answered went out (the server answered no later)."""
    import urllib.request

    def answers() -> bool:
        if service.proc.poll() is not None:
            raise AssertionError(f"{service.name} exited:\n{service.log()[-3000:]}")
        asked_at = time.monotonic()
        try:
            with urllib.request.urlopen(f"{origin}/healthz", timeout=1) as response:
                if response.status == 200:
                    service.answered_at = asked_at
                return response.status == 200
        except OSError:
            return False

    wait_for(answers, timeout=timeout, interval=0.1, what=what)


def wait_for(predicate: Callable[[], object], *, timeout: float, interval: float = 0.02,
             what: str = "condition") -> object:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_logged(*services: Service, text: str = " ready.", timeout: float = 30) -> None:
    """Wait until each service's log has `text` (Celery workers log "<name> ready.")."""
    for s in services:

        def logged(s=s) -> bool:
            if s.proc.poll() is not None:
                raise AssertionError(f"{s.name} exited:\n{s.log()[-3000:]}")
            return text in s.log()

        wait_for(logged, timeout=timeout, interval=0.1, what=f"{s.name} to log {text!r}")


def flush_redis() -> None:
    store.client().flushdb()


def wait_ready(*services: Service, timeout: float = 30) -> None:
    """Wait until every Celery worker among ``services`` answers a ping."""
    import socket

    import kombu.exceptions
    import redis

    from config.celery import app

    names = {f"{s.name}@{socket.gethostname()}" for s in services}

    def all_answer() -> bool:
        for s in services:
            if s.proc.poll() is not None:
                raise AssertionError(f"{s.name} exited:\n{s.log()[-3000:]}")
        try:
            # A connection of its own: a pooled one may have been closed by a Redis restart.
            with app.connection_for_write() as conn:
                replies = app.control.ping(destination=sorted(names), timeout=0.5,
                                           connection=conn)  # fmt: skip
        except (OSError, redis.RedisError, kombu.exceptions.OperationalError):
            return False
        return names <= {name for reply in replies for name in reply}

    wait_for(all_answer, timeout=timeout, interval=0.1, what=f"workers {sorted(names)}")


def whole_stack(tag: str, **daphne_env: str) -> list[Service]:
    """A live test class's processes on a flushed Redis: a tick worker, a default worker and
    beat (the workers answering), then a Daphne, last. Stopped again if one fails to start."""
    flush_redis()
    services: list[Service] = []
    try:
        services += [tick_worker(f"ticks-{tag}"), default_worker(f"default-{tag}"),
                     beat(f"beat-{tag}")]  # fmt: skip
        wait_ready(*services[:2])
        services.append(daphne(f"daphne-{tag}", **daphne_env))
    except BaseException:
        stop_all(services)
        raise
    return services


def stop_all(services: list[Service]) -> None:
    for service in services:
        service.stop()
