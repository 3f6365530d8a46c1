"""The tick scheduler: one loop per process ticks every match the process runs.

Each match ticks on absolute deadlines base + (slot/slots + k)·period: its period splits into
`TICK_PHASE_SLOTS` phase slots, and a new match takes the least used slot of its period. The
loop sleeps until the earliest deadline and ticks every match due by then together: one
pipeline takes all their inputs, the rules step each, one pipeline commits and publishes them
all. Matches of one slot share their deadlines exactly, so a batch waits for nobody, and the
slots spread the batches evenly over the period.

One loop instead of a timer per match: no switching or waking per match, and no window
waiting for calls to gather (docs/benchmarks.md has the figures).

The Celery task of a match (realtime.engine.tasks.run_match) still owns the match: it takes the
lease, hands the runner to the loop and waits for its outcome, so the supervisor, the
shutdown hand-over and task failures work per match as before.
"""

import contextlib
import heapq
import itertools
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from functools import cache

from django.conf import settings

from realtime import figures, store
from realtime.engine.match import MatchRunner, Outcome
from realtime.engine.pipeline import Call, ScriptPipeline

log = logging.getLogger(__name__)

# Ticks run back to back to catch up after a stall; beyond that, ticks are skipped.
MAX_CATCHUP = 3
FLUSH_EVERY_S = 1.0  # the process's figures (realtime.figures), riding a commit pipeline


class _Entry:
    __slots__ = ("deadline", "done", "error", "k", "outcome", "period", "runner", "slot", "stop",
                 "t0")  # fmt: skip

    def __init__(self, runner: MatchRunner, stop, *, slot: tuple, t0: float, now: float) -> None:
        self.runner, self.stop, self.slot = runner, stop, slot
        self.period = runner.period
        # The first deadline of the slot that is not already past.
        self.t0, self.k = t0, int((now - t0) // self.period) + 1
        self.deadline = t0 + self.k * self.period
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


class Scheduler:
    def __init__(
        self,
        pipe: ScriptPipeline,
        *,
        slots: int = 1,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self.pipe = pipe
        self.slots = slots
        self.clock = clock
        self._base = clock()
        self._used: dict[tuple[float, int], int] = {}  # (period, slot) -> matches in it
        self._wake = threading.Event()
        # Tests pass a fake clock's sleep; the loop otherwise sleeps on the wake event, so
        # that a match added meanwhile with an earlier deadline is not late.
        self._wait = wait or self._wake.wait
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._running = False
        self._pid = 0
        self.batches = 0  # ticks of several matches run together (tests, benchmarks)
        self.figures = figures.Figures()
        self._flush_at = 0.0
        self._reconnects_seen = 0

    def run(self, runner: MatchRunner, stop: threading.Event | None = None) -> Outcome:
        """Tick an acquired runner until the match ends or must stop; its outcome."""
        entry = self.add(runner, stop)
        with self._lock:
            # The pid: a forked child inherits the flag but not the loop.
            if not self._running or self._pid != os.getpid():
                self._running, self._pid = True, os.getpid()
                threading.Thread(target=self.loop, name="tick-scheduler", daemon=True).start()
        self._wake.set()
        entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.outcome

    def add(self, runner: MatchRunner, stop: threading.Event | None = None) -> _Entry:
        period = runner.period
        with self._lock:
            counts = [self._used.get((period, slot), 0) for slot in range(self.slots)]
            # The least used slot; among equals a random one, so that two workers' matches
            # do not all start in slot 0.
            fewest = min(counts)
            slot = random.choice([i for i, n in enumerate(counts) if n == fewest])
            self._used[(period, slot)] = fewest + 1
        t0 = self._base + slot * period / self.slots
        entry = _Entry(runner, stop, slot=(period, slot), t0=t0, now=self.clock())
        self._push(entry)
        return entry

    def _push(self, entry: _Entry) -> None:
        with self._lock:
            heapq.heappush(self._heap, (entry.deadline, next(self._seq), entry))

    def loop(self) -> None:
        """Until no match is left: sleep to the next deadline, tick whatever is due."""
        while True:
            self._wake.clear()
            with self._lock:
                if not self._heap:
                    self._running = False
                    return
                first = self._heap[0][0]
            pause = first - self.clock()
            if pause > 0:
                self._wait(pause)
                continue
            now = self.clock()
            due = []
            with self._lock:
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
            self._tick(due, now)

    # --- one batch ---------------------------------------------------------------------------
    def _tick(self, due: list[_Entry], now: float) -> None:
        ready = []
        for entry in due:
            if entry.stop is not None and entry.stop.is_set():
                self._finish(entry, Outcome.RELEASED)
                continue
            behind = int((now - entry.deadline) / entry.period)
            if behind > MAX_CATCHUP:
                skipped = behind - MAX_CATCHUP
                entry.k += skipped
                entry.runner.stats.skipped += skipped
                entry.deadline = entry.t0 + entry.k * entry.period
            ready.append(entry)
        if not ready:
            return
        self.batches += 1
        try:
            inputs = self.pipe.run([entry.runner.inputs_call() for entry in ready])
            stepped = self.clock()
        except Exception as exc:  # Redis is gone: every match of the batch stops with it
            for entry in ready:
                self._finish(entry, error=exc)
            return
        calls, spans = [], []
        for entry, raw in zip(ready, inputs, strict=True):
            try:
                if isinstance(raw, Exception):
                    raise raw
                tick_calls = entry.runner.step(raw)
            except Exception as exc:  # a broken match must not stop the others
                self._finish(entry, error=exc)
                continue
            spans.append((entry, len(calls), len(calls) + len(tick_calls)))
            calls.extend(tick_calls)
        committing = self.clock()
        if committing >= self._flush_at:
            calls.append(self._flush_call(committing))
        try:
            replies = self.pipe.run(calls)
        except Exception as exc:
            for entry, _, _ in spans:
                self._finish(entry, error=exc)
            return
        done = self.clock()
        self.figures.observe("redis_batch", (stepped - now + done - committing) * 1000)
        self.figures.observe("tick_batch", (done - now) * 1000)
        for entry, start, end in spans:
            failed = next((r for r in replies[start:end] if isinstance(r, Exception)), None)
            if failed is not None:
                self._finish(entry, error=failed)
                continue
            runner = entry.runner
            outcome = runner.settle(replies[end - 1])
            runner.stats.record(
                jitter_ms=(now - entry.deadline) * 1000, duration_ms=(done - now) * 1000,
                period_ms=entry.period * 1000,
            )  # fmt: skip
            if outcome is not Outcome.CONTINUE:
                self._finish(entry, outcome)
                continue
            entry.k += 1
            entry.deadline = entry.t0 + entry.k * entry.period
            self._push(entry)

    def _flush_call(self, now: float) -> Call:
        """The process's figures since the last flush: batch timings, matches held, the
        pipeline's reconnections."""
        self._flush_at = now + FLUSH_EVERY_S
        reconnects = self.pipe.reconnects
        self.figures.count(store.RECONNECTS + "ticks", reconnects - self._reconnects_seen)
        self._reconnects_seen = reconnects
        self.figures.gauges["matches_held"] = sum(self._used.values())
        keys, args = store.flush_process_args(figures.process_name(), *self.figures.take(),
                                              now=time.time())  # fmt: skip
        return Call(store.scripts().flush_process, keys, args)

    def _finish(self, entry: _Entry, outcome: Outcome | None = None, *, error=None) -> None:
        with self._lock:
            self._used[entry.slot] -= 1
        entry.outcome, entry.error = outcome, error
        entry.done.set()


@cache
def scheduler() -> Scheduler:
    """The process's one loop (the tick worker's; tests that start matches use it too)."""
    return Scheduler(ScriptPipeline(store.client()), slots=settings.TICK_PHASE_SLOTS)


def run_match(match_id: int, stop: threading.Event | None = None) -> Outcome:
    """Run a match to its end (or until the lease is lost or we are told to stop)."""
    runner = MatchRunner(match_id)
    outcome = runner.acquire()
    if outcome is not Outcome.CONTINUE:
        return outcome
    try:
        outcome = scheduler().run(runner, stop)
    except BaseException as exc:
        log.warning("match %s: runner %s gave the match up: %s", match_id, runner.token,
                    exc or type(exc).__name__)  # fmt: skip
        # Let the next runner take over at once instead of waiting for the TTL.
        with contextlib.suppress(Exception):  # Redis may be what failed
            runner.release()
        raise
    if outcome is Outcome.LEASE_LOST:
        log.warning("match %s: runner %s lost its lease; stopping", match_id, runner.token)
    if outcome in (Outcome.STOPPED, Outcome.RELEASED):
        runner.release()
    else:
        runner.flush_stats()
    return outcome
