"""Group commit of Redis script calls from every match of a process into shared pipelines.

A round trip through redis-py costs ~70 µs of CPU, of which ~45 µs is per-call overhead; a
pipeline of ten costs ~11 µs per command (measured on the project machine, see
docs/benchmarks.md). With 150 matches ticking at 30 Hz, that difference is the tick worker's
headroom. Callers block until their own result is back; a single flusher sends whatever
queued up while the previous pipeline was in flight, after waiting `window_s` for more:
matches tick at random phases, so without the wait a pipeline carried ~3 calls and the
tick worker spent 260 µs of CPU per tick at 100 matches; with 2 ms, ~155 (docs/benchmarks.md).

Plain threading primitives: under the tick worker's gevent pool they are green (the flusher
is a greenlet); in tests and other processes they are ordinary threads.
"""

import os
import queue
import threading
import time
from typing import Any

import hiredis
import redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

MAX_BATCH = 256
IDLE_RECONNECT_S = 1.0


class _Call:
    __slots__ = ("args", "done", "error", "keys", "result", "script")

    def __init__(self, script: Script, keys: list, args: list) -> None:
        self.script, self.keys, self.args = script, keys, args
        # A lock held until the result is in: under gevent a semaphore, much cheaper per call
        # than an Event (a Condition, a waiter lock and a list each time).
        self.done = threading.Lock()
        self.done.acquire()
        self.result: Any = None
        self.error: BaseException | None = None


class Batcher:
    def __init__(self, client: redis.Redis, window_s: float = 0.0) -> None:
        self.client = client
        self.window_s = window_s
        self.flushes = 0  # pipelines sent (tests, benchmarks)
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._flushing = False
        self._pid = 0
        self._conn = None
        self._reader: hiredis.Reader | None = None
        self._last_used = 0.0

    def call(self, script: Script, *, keys: list, args: list | tuple = ()) -> Any:
        self._ensure_flusher()
        item = _Call(script, keys, list(args))
        self._queue.put(item)
        item.done.acquire()
        if item.error is not None:
            raise item.error
        return item.result

    def _ensure_flusher(self) -> None:
        # A flag, not Thread.is_alive(): under gevent that takes a lock, twice per tick. The
        # pid: a forked child has the flag but not the thread.
        if self._flushing and self._pid == os.getpid():
            return
        with self._lock:
            if self._flusher is None or not self._flusher.is_alive():
                self._pid = os.getpid()
                self._flusher = threading.Thread(
                    target=self._run, name="redis-batcher", daemon=True
                )
                self._flusher.start()

    def _run(self) -> None:
        self._flushing = True
        try:
            self._loop()
        finally:
            self._flushing = False

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            if self.window_s:
                time.sleep(self.window_s)  # under gevent: the other matches queue their calls
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._flush(batch)

    def _flush(self, batch: list[_Call]) -> None:
        self.flushes += 1
        # Straight onto one connection owned by the flusher: redis-py's Pipeline would check a
        # connection out of the pool (and poll it) per batch, and ask SCRIPT EXISTS per execute.
        try:
            sock, reader = self._connection()
            # hiredis packs str, bytes, int and float itself; redis-py's own packing checked and
            # encoded every argument in Python first (~15 % of the tick worker's CPU).
            sock.sendall(
                b"".join(
                    hiredis.pack_command((b"EVALSHA", i.script.sha, len(i.keys), *i.keys, *i.args))
                    for i in batch
                )
            )
            # Replies are parsed by one hiredis reader fed whole socket reads: redis-py's
            # read_response per reply added ~8 µs each.
            results = []
            while len(results) < len(batch):
                reply = reader.gets()
                if reply is False:
                    data = sock.recv(262144)
                    if not data:
                        raise RedisConnectionError("Redis closed the connection")
                    reader.feed(data)
                else:
                    results.append(reply)
        except BaseException as exc:  # the connection failed: every caller gets the error
            self._disconnect()
            for item in batch:
                item.error = exc
                item.done.release()
            return
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, hiredis.ReplyError):
                if str(result).startswith("NOSCRIPT"):
                    # Redis restarted or was flushed: the script call loads it and runs again.
                    try:
                        result = item.script(keys=item.keys, args=item.args)
                    except Exception as exc:
                        result = exc
                else:
                    result = ResponseError(str(result))
            if isinstance(result, Exception):
                item.error = result
            else:
                item.result = result
            item.done.release()

    def _connection(self):
        """The socket (redis-py connected it: AUTH, SELECT, TLS as configured) and a reader."""
        if self._conn is None:
            self._conn = self.client.connection_pool.make_connection()
        elif time.monotonic() - self._last_used > IDLE_RECONNECT_S:
            # Idle for a while: a Redis restart may have closed it under us. A new connection
            # is cheaper than finding out with a failed tick; while matches tick it never idles.
            self._disconnect()
        self._last_used = time.monotonic()
        if self._conn._sock is None:
            self._conn.connect()
            self._reader = hiredis.Reader()
        return self._conn._sock, self._reader

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
