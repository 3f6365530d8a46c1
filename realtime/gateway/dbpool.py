"""The sockets' database calls: a few threads of their own whose connections last a burst.

Channels runs a consumer's database calls on one thread per process and, as Django does
under ASGI, opens and closes a connection around each call. After a Daphne restart its
thousand handshakes each made two calls, and opening the connection (SQLite's PRAGMAs and
functions and the schema read of its first query; PostgreSQL's login) was a large share of
their database time (docs/operations.md, "Reconnect stampede"). Here each thread keeps its
connection while it has work, up to ``GATEWAY_DB_CONN_MAX_AGE_S``, and closes it after
``GATEWAY_DB_CONN_IDLE_S`` without a call, so an idle gateway holds no connection.

Django sets a connection's expiry (``close_at``) from ``CONN_MAX_AGE``, which stays 0 for
everything else in the process: the ASGI request threads come and go, and a persistent
connection per such thread would leak. The one reach into Django is that attribute, set on
connections these threads open (``install`` checks it exists).
"""

import concurrent.futures
import itertools
import queue
import threading
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

_RELEASE = object()  # a job that closes the thread's connections (``Pool.release``)
# Work for sockets already admitted (their presence, their end) goes before new handshakes:
# after a restart every admitted socket waits on its presence write for its welcome, and
# behind a thousand handshakes it waited for all of them.
URGENT, NORMAL = 0, 1
_local = threading.local()


class Pool(concurrent.futures.Executor):
    """``threads`` workers; each closes its connections after ``idle_s`` without a job.
    Jobs run by priority (``URGENT`` first), in order of submission within one."""

    def __init__(self, *, threads: int, idle_s: float, name: str = "gateway-db") -> None:
        self.threads, self.idle_s, self.name = threads, idle_s, name
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._workers: list[threading.Thread] = []
        self._start = threading.Lock()
        self._released = threading.Barrier(threads + 1)  # every worker and ``release``

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        return self.submit_at(NORMAL, fn, *args, **kwargs)

    def submit_at(self, priority: int, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        self._ensure_workers()
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._put(priority, (future, fn, args, kwargs))
        return future

    def urgent(self) -> "concurrent.futures.Executor":
        """This pool as an executor whose jobs go before the others'."""
        return _Urgent(self)

    def _put(self, priority: int, job) -> None:
        self._jobs.put((priority, next(self._order), job))

    def release(self, timeout: float = 10.0) -> None:
        """Every worker closes its connections now (before a database is dropped)."""
        if not self._workers:
            return
        for _ in range(self.threads):
            self._put(URGENT, _RELEASE)
        self._await_release(timeout)

    def _await_release(self, timeout: float) -> None:
        try:
            self._released.wait(timeout)
        except threading.BrokenBarrierError:
            self._released.reset()

    def _ensure_workers(self) -> None:
        if len(self._workers) == self.threads:
            return
        with self._start:
            while len(self._workers) < self.threads:
                worker = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self.name}-{len(self._workers)}")  # fmt: skip
                worker.start()
                self._workers.append(worker)

    def _work(self) -> None:
        _local.pooled = True
        while True:
            try:
                _, _, job = self._jobs.get(timeout=self.idle_s)
            except queue.Empty:
                connections.close_all()  # this thread's: idle, so nothing holds one open
                _, _, job = self._jobs.get()
            if job is _RELEASE:
                connections.close_all()
                self._await_release(10.0)  # so that each worker takes exactly one release
                continue
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)
            else:
                future.set_result(result)


class _Urgent(concurrent.futures.Executor):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        return self.pool.submit_at(URGENT, fn, *args, **kwargs)


def _keep_open(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    if getattr(_local, "pooled", False):
        connection.close_at = time.monotonic() + settings.GATEWAY_DB_CONN_MAX_AGE_S


def install() -> None:
    """Connections opened by the pool's threads live up to the max age (not Django's 0)."""
    if not hasattr(connections["default"], "close_at"):
        raise RuntimeError("this Django keeps no close_at on its connections; see dbpool.py")
    connection_created.connect(_keep_open, dispatch_uid="gateway-dbpool")


POOL = Pool(threads=settings.GATEWAY_DB_THREADS, idle_s=settings.GATEWAY_DB_CONN_IDLE_S)
install()


POOL_URGENT = POOL.urgent()


def on_pool(func, *, urgent: bool = False):
    """``func`` as a coroutine on the pool (before the others' jobs if ``urgent``); Channels'
    wrapper replaces broken or old connections before and after each call
    (``close_old_connections``)."""
    executor = POOL_URGENT if urgent else POOL
    return database_sync_to_async(func, thread_sensitive=False, executor=executor)
