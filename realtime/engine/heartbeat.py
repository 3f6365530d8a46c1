"""The tick worker's heartbeat: proof for /readyz that some worker can run matches.

A worker consuming the ``ticks`` queue writes, every ``INTERVAL_S``:

    workers:ticks:<hostname>  string  {"pid", "at"} with a TTL of ``TTL_S`` (for operators)
    workers:ticks             zset    hostname -> time of its last beat (what readers scan:
                                      a zset range instead of a SCAN over every key)

A Celery ping would need a broker round trip and a reply from every worker on each probe;
the heartbeat costs readers one ZRANGEBYSCORE. The writer is a thread (a greenlet under the
gevent pool) started on ``worker_ready``; a warm shutdown removes the worker at once.
"""

import json
import logging
import os
import threading
import time

from celery.signals import worker_ready, worker_shutting_down

from realtime import figures, store

log = logging.getLogger(__name__)

INDEX = store.TICK_WORKERS
INTERVAL_S = 2.0
TTL_S = 10.0  # several missed beats before a worker counts as gone
QUEUE = "ticks"

_stop = threading.Event()


key = store.tick_worker_key


def beat(hostname: str, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    pipe = store.client().pipeline(transaction=False)
    pipe.set(key(hostname), json.dumps({"pid": os.getpid(), "at": now}), px=int(TTL_S * 1000))
    pipe.zadd(INDEX, {hostname: now})
    # Workers that went away long ago (scaled down, crashed) leave the index eventually.
    pipe.zremrangebyscore(INDEX, 0, now - 3600)
    pipe.execute()


def forget(hostname: str) -> None:
    pipe = store.client().pipeline(transaction=False)
    pipe.delete(key(hostname))
    pipe.zrem(INDEX, hostname)
    pipe.execute()


def alive(r=None, *, now: float | None = None) -> list[str]:
    """Hostnames of tick workers that beat within the TTL."""
    now = time.time() if now is None else now
    names = (r or store.client()).zrangebyscore(INDEX, now - TTL_S, "+inf")
    return [name.decode() for name in names]


def _loop(hostname: str) -> None:
    while not _stop.is_set():
        try:
            beat(hostname)
        except Exception:  # a Redis blip must not kill the heartbeat for good
            log.warning("heartbeat of %s failed", hostname, exc_info=True)
        _stop.wait(INTERVAL_S)
    # Here, not in the signal handler: under gevent that runs in a loop callback, where a
    # blocking call (a Redis round trip) is refused.
    try:
        forget(hostname)
    except Exception:
        log.warning("could not remove the heartbeat of %s", hostname, exc_info=True)


def _consumed_queues(consumer) -> set[str]:
    try:
        return set(consumer.app.amqp.queues.consume_from or consumer.app.amqp.queues)
    except AttributeError:
        return set()


@worker_ready.connect
def _on_worker_ready(sender=None, **kwargs) -> None:
    if QUEUE not in _consumed_queues(sender):
        return  # the default worker runs no matches: its beat would make /readyz lie
    hostname = sender.hostname
    figures.name_process(hostname)  # the `process` label of its figures in /metrics
    threading.Thread(target=_loop, args=(hostname,), name="tick-heartbeat", daemon=True).start()
    log.info("heartbeat of %s started (%s every %.0f s)", hostname, key(hostname), INTERVAL_S)


@worker_shutting_down.connect
def _on_shutdown(**kwargs) -> None:
    _stop.set()  # the loop removes the heartbeat: a worker going away takes no new matches
