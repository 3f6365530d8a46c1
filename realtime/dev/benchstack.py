"""The whole stack as an operator runs it, for the benchmarks: a fresh private Redis, the
database migrated, Daphne, the tick worker, the default worker and beat as child processes
with their logs in ``out``; everything stopped on the way out, even on failure."""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from matches import services
from matches.models import Match
from realtime import store
from realtime.dev import devredis, proxy
from realtime.dev.management.commands.runstack import service_commands


def clean_slate() -> None:
    """Matches of an earlier run (its database and its Redis append-only file) would be
    resumed by the supervisor and tick unseen during this one."""
    leftovers = Match.objects.exclude(status__in=Match.OVER_STATUSES)
    for match_id in leftovers.values_list("pk", flat=True):
        services.match_abort(match_id=match_id, reason="a new bench run started")
    if settings.REDIS_IS_PRIVATE:
        store.client().flushdb()


def wait_http(port: int, out: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not answer within 60 s (see {out / 'daphne.log'})")


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """Meanwhile a SIGTERM (``kill``, a CI timeout) raises SystemExit, so that the ``finally``
    blocks stopping child processes run (Python's default would orphan them); a second one
    during that clean-up is ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler
        return

    def leave(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def running_stack(
    *, port: int, out: Path, daphnes: int = 1, proxy_port: int | None = None, **env: str
) -> Iterator[tuple[dict, object]]:
    """``(processes by name, the private Redis process or None)`` while the stack runs.

    ``daphnes`` Daphnes listen on ``port``, ``port + 1``…: "daphne", "daphne-2"…; with
    ``proxy_port``, nginx from deploy/nginx.conf ("nginx") listens there in front of them all.
    """
    out.mkdir(parents=True, exist_ok=True)
    scratch = []
    redis_proc = devredis.ensure(fresh=True)
    procs: dict[str, subprocess.Popen] = {}
    logs = []
    with sigterm_exits():
        try:
            call_command("migrate", interactive=False, verbosity=0)
            clean_slate()
            child_env = {
                **os.environ, "REDIS_URL": settings.REDIS_URL, "DEBUG": "0",
                "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
                "MATCH_COUNTDOWN_S": "0.5", "LOG_LEVEL": "WARNING", **env,
            }  # fmt: skip
            commands = service_commands(host="127.0.0.1", port=port)
            for n in range(2, daphnes + 1):
                commands[f"daphne-{n}"] = service_commands(host="127.0.0.1", port=port + n - 1)[
                    "daphne"
                ]
            if proxy_port is not None:
                upstreams = [f"127.0.0.1:{port + n}" for n in range(daphnes)]
                commands["nginx"], directory = proxy.prepare(
                    "bench", upstreams=upstreams, listen=f"127.0.0.1:{proxy_port}",
                    scale_everyone=True,
                )  # fmt: skip
                scratch.append(directory)
            for name, cmd in commands.items():
                log = open(out / f"{name}.log", "wb")  # noqa: SIM115 - closed below
                logs.append(log)
                procs[name] = subprocess.Popen(
                    cmd, env=child_env, stdout=log, stderr=subprocess.STDOUT
                )
            for n in range(daphnes):
                wait_http(port + n, out)
            if proxy_port is not None:
                wait_http(proxy_port, out)
            time.sleep(3)  # workers connecting to the broker
            yield procs, redis_proc
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for log in logs:
                log.close()
            for directory in scratch:
                shutil.rmtree(directory, ignore_errors=True)
            devredis.stop(redis_proc)
