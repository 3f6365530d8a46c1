"""One match held by this tick worker: its lease, its state and its tick.

The loop that ticks is the scheduler's (``realtime.engine.scheduler``); a ``MatchRunner`` is
what it ticks. A tick is three parts so that the scheduler can run the ticks of every match
due at once on two shared pipelines: ``inputs_call()`` (what to read), ``step(raw_inputs)``
(the rules, through ``matches.tick.advance``; returns the calls that commit the tick) and
``settle(reply)`` (what the commit said). ``advance()`` is the same tick on direct round
trips, for tests and tools.
"""

import json
import logging
import random
import time
from enum import StrEnum

from django.conf import settings

from matches import tick
from matches.titles import GameError, get_title, wire, wirecodec
from realtime import figures, groups, protocol, store
from realtime.engine.pipeline import Call, Command, call_now
from realtime.engine.stats import BUCKET_MS, TickStats

log = logging.getLogger(__name__)

MAX_INPUTS_PER_TICK = 512


class Outcome(StrEnum):
    CONTINUE = "continue"
    FINISHED = "finished"
    LEASE_LOST = "lease_lost"  # someone else holds the lease now, or the fence refused us
    STOPPED = "stopped"  # a stop was requested through Redis (staff action)
    RELEASED = "released"  # this worker is shutting down and handed the match back
    BUSY = "busy"  # another runner holds the lease: nothing to do
    MISSING = "missing"  # no state in Redis: the supervisor decides what that means


_COMMIT_RESULT = {1: Outcome.CONTINUE, 2: Outcome.CONTINUE, 0: Outcome.LEASE_LOST,
                  -1: Outcome.LEASE_LOST, -2: Outcome.STOPPED}  # fmt: skip
KEYFRAME_ASKED = 2  # the commit took a socket's request for a compact keyframe

_dumps = protocol.dumps


def _increments(counts: dict[str, int]) -> list:
    """``counts`` as the flat ``field, n, ...`` pairs FLUSH_STATS adds to the process's
    counters (realtime.figures); zeros are skipped."""
    return [x for name, n in counts.items() if n for x in (f"c:{name}", n)]


def _histograms(stats: TickStats) -> tuple:
    """What the exported histograms hold of ``stats``: coarse buckets and sums (ms)."""
    return (figures.coarse(stats.jitter_hist, BUCKET_MS), stats.jitter_sum_ms,
            figures.coarse(stats.duration_hist, BUCKET_MS), stats.duration_sum_ms)  # fmt: skip


class MatchRunner:
    def __init__(self, match_id: int, *, clock=time.monotonic) -> None:
        self.match_id = match_id
        self.clock = clock
        self.redis = store.client()
        self.scripts = store.scripts()
        self.token = store.new_token()
        self.epoch: int | None = None
        self.meta: store.Meta | None = None
        self.state: dict = {}
        self.absent: dict[int, float] = {}
        self.acks: list[int] = []
        self.stats = TickStats()
        # Totals at the last stats flush: the next flush adds the difference to the process's
        # figures (realtime.figures) and derives the achieved tick rate from it.
        self._flushed = (0, 0, 0, time.monotonic())
        self._flushed_hists = _histograms(self.stats)
        self._refused: dict[str, int] = {}
        # Inputs that arrived before the tick they asked for (`at`), in arrival order:
        # (the tick whose state first shows it, slot, seq, entry, its `at`, the queued row).
        self.held: list[tuple[int, int, int | None, list, int, bytes]] = []
        # Per slot, the tick its last input took effect at (the step that applied it, less its
        # catch-up): a later input's catch-up never reaches back past it.
        self.applied: list[int] = []
        self._finished = False
        self.lease_ms = int(settings.MATCH_LEASE_TTL_S * 1000)
        self._keys = {part: store.key(match_id, part) for part in (
            "lease", "epoch", "state", "control", "inputs", "stats", "log",
            "dispatched")}  # fmt: skip
        # The same every tick: built once.
        self._inputs_call = Command((b"LPOP", self._keys["inputs"], MAX_INPUTS_PER_TICK))
        self._commit_keys = [
            *(self._keys[part] for part in ("lease", "epoch", "state", "control")),
            store.FINISHED_INDEX, self._keys["log"], store.key(match_id, "keyframe"),
        ]  # fmt: skip
        # Compact frames, from the first keyframe a socket asks for on (a match nobody watches
        # compact pays nothing): its schema, and the encoder once asked.
        self._schema: wire.Schema | None = None
        self.encoder: wirecodec.Encoder | None = None
        self._channel = ""

    # --- lease -------------------------------------------------------------------------------
    def acquire(self) -> Outcome:
        """Take the lease and load the last committed state; CONTINUE when we may run."""
        self.meta = store.Meta.load(self.match_id, self.redis)
        saved = store.load_state(self.match_id)
        if self.meta is None or saved is None:
            return Outcome.MISSING
        if saved["status"] == "finished":
            return Outcome.FINISHED
        epoch = self.scripts.acquire(
            keys=[self._keys["lease"], self._keys["epoch"], self._keys["dispatched"]],
            args=[self.token, self.lease_ms],
        )
        if not epoch:
            return Outcome.BUSY
        self.epoch = int(epoch)
        self.title = get_title(self.meta.title)
        self.period = 1.0 / self.meta.tick_hz
        self.state = saved["state"]
        self.absent = saved["absent"]
        acks = saved["acks"]
        self.acks = [*acks[: self.meta.players], *[0] * (self.meta.players - len(acks))]
        self.grace_s = settings.RECONNECT_GRACE_S
        self.hold_ticks = protocol.ticks_of_ms(settings.INPUT_HOLD_MS, self.meta.tick_hz)
        self.catch_up_ticks = protocol.ticks_of_ms(settings.INPUT_CATCH_UP_MS, self.meta.tick_hz)
        # What an earlier runner applied is not known here: no catch-up reaches before it.
        self.applied = [self.state["tick"]] * self.meta.players
        self.stats = TickStats.from_json(self.redis.hget(self._keys["stats"], "json"))
        self._flushed = (self.stats.ticks, self.stats.skipped, self.stats.overruns, self.clock())
        self._flushed_hists = _histograms(self.stats)
        self._channel = groups.channel(groups.group_name(self.meta.public_id))
        self._schema = protocol.compact_schema(self.title)
        log.info("match %s: runner %s took epoch %s at tick %s",
                 self.match_id, self.token, self.epoch, self.state.get("tick"))  # fmt: skip
        return Outcome.CONTINUE

    def release(self) -> None:
        self.flush_stats()
        if self.held:
            # Back at the head of the queue, oldest first: the next runner holds them as we did.
            self.redis.lpush(self._keys["inputs"], *(row for *_, row in reversed(self.held)))
            self.held = []
        self.scripts.release(keys=[self._keys["lease"]], args=[self.token])

    # --- one tick ----------------------------------------------------------------------------
    def inputs_call(self) -> Command:
        """The command that takes the inputs queued for this tick: at most
        MAX_INPUTS_PER_TICK, atomically (the rest wait for the next tick); nil when none."""
        return self._inputs_call

    def step(self, raw_inputs: list[bytes] | None) -> list[Call]:
        """Apply the inputs and bots, step the rules; the calls that commit the tick, in order."""
        title = self.title
        applied_at = self.state["tick"]
        entries = self._due(applied_at + 1, raw_inputs or ())
        if self.absent:
            entries.extend(self._forfeits_of_the_long_gone())
        paused = bool(self.absent) and title.pauses_on_disconnect
        self.state = state = tick.advance(
            title, self.state, entries=entries, bots=self.meta.bots, step=not paused
        )
        finished = self._finished = title.is_finished(state)
        message = protocol.state_message(
            tick=state["tick"],
            snapshot=title.snapshot(state),
            paused=sorted(self.absent) if paused else None,
            acks=self.acks,
        )
        text = _dumps(message)
        # The same message once more, compact: published beside the text, never stored.
        compact = self.encoder.encode(message) if self.encoder is not None else None
        calls = []
        result_json = ""
        if finished:
            result_json = _dumps(title.result(state))
        if finished or self.stats.ticks - self._flushed[0] >= self.meta.tick_hz:
            # About once a second, and before the commit that ends the match: whoever
            # finishes it reads these.
            calls.append(self.stats_call())
        published = groups.serialize(groups.STATE, text, compact, epoch=self.epoch)
        calls.append(Call(
            self.scripts.commit,
            self._commit_keys,
            [self.token, self.epoch, self.lease_ms, _dumps(state), state["tick"],
             "finished" if finished else "running", self._channel, published, _dumps(self.acks),
             result_json, time.time(), self.match_id, _dumps(self.absent),
             _dumps(entries) if entries else "", applied_at],
        ))  # fmt: skip
        return calls

    def settle(self, committed: int) -> Outcome:
        """What the tick's commit (the last call of ``step``) replied means for the match."""
        outcome = _COMMIT_RESULT[committed]
        if committed == KEYFRAME_ASKED and self._schema is not None:
            if self.encoder is None:
                # A runner's first compact frame is a keyframe: no delta spans two runners.
                self.encoder = wirecodec.Encoder(
                    self._schema,
                    keyframe_every=self.title.ticks(settings.STATE_KEYFRAME_EVERY_S),
                    first_frame=random.randrange(wirecodec.FRAME_MOD),
                )
            self.encoder.request_keyframe()
        if outcome is Outcome.CONTINUE and self._finished:
            return Outcome.FINISHED
        return outcome

    def advance(self) -> Outcome:
        """One tick on direct round trips: what the scheduler does for many matches at once."""
        raw_inputs = call_now(self.inputs_call(), self.redis)
        replies = [call_now(call, self.redis) for call in self.step(raw_inputs)]
        return self.settle(replies[-1])

    def _forfeits_of_the_long_gone(self) -> list[list]:
        cutoff = time.time() - self.grace_s
        forfeits = []
        for slot, since in list(self.absent.items()):
            if since <= cutoff:
                log.info("match %s: slot %s forfeits (away %.0f s)", self.match_id, slot,
                         time.time() - since)  # fmt: skip
                del self.absent[slot]
                forfeits.append(["f", slot])
        return forfeits

    def _due(self, made: int, raw_inputs) -> list[list]:
        """The entries to apply in the step that makes tick ``made``: the held inputs now due,
        then the new rows, except inputs asking for a later tick, which wait (at most
        ``hold_ticks`` past the tick they arrived at). A slot's inputs keep their order: one never
        overtakes a held one. An input is acknowledged (``acks``) when it is applied.

        An input applied after the tick it asked for says how many ticks late it is
        (``["i", slot, input, late]``, for the title's ``apply_late_input``): at most
        ``catch_up_ticks``, and never back past the tick the slot's previous input took effect
        at: what the player's inputs did is always what they could have done in the ticks that
        passed, each input at or after the one before it."""
        entries, held = [], []
        for item in self.held:
            (entries if item[0] <= made else held).append(item)
        entries = [(slot, seq, entry, at) for _, slot, seq, entry, at, _ in entries]
        for raw in raw_inputs:
            parsed = self._entry(raw)
            if parsed is None:
                continue
            entry, seq, at = parsed
            slot = entry[1]
            if entry[0] == "f":  # what the slot still had held will never matter
                held = [h for h in held if h[1] != slot]
            elif (due := max(at, *(h[0] for h in held if h[1] == slot), 0)) > made:
                held.append((due, slot, seq, entry, at, raw))
                continue
            entries.append((slot, seq, entry, at))
        self.held = held
        applied = []
        for slot, seq, entry, at in entries:
            if seq is not None:
                self.acks[slot] = seq
            if entry[0] == "i":
                late = 0
                if 0 < at < made:
                    late = min(made - at, self.catch_up_ticks, made - self.applied[slot])
                self.applied[slot] = made - late
                if late > 0:
                    entry = [*entry, late]
            applied.append(entry)
        return applied

    def _entry(self, raw: bytes) -> tuple[list, int | None, int] | None:
        """A queued row as a tick entry (an input or a forfeit), its seq and the tick it asks
        to be first shown at (0: at once); None for a presence change, which only moves the
        forfeit clock, and for a row refused here."""
        try:
            item = json.loads(raw)
            slot = item["slot"]
            if not (isinstance(slot, int) and 0 <= slot < self.meta.players):
                raise ValueError(f"slot {slot!r} out of range")
            if slot in self.meta.bots:
                raise ValueError(f"slot {slot} is played by a bot")
            if item.get("forfeit") is True:
                log.info("match %s: slot %s forfeits (%s)", self.match_id, slot, item.get("reason"))
                return ["f", slot], None, 0
            if "presence" in item:
                if item["presence"] == "off":
                    self.absent.setdefault(slot, float(item["at"]))
                else:
                    self.absent.pop(slot, None)
                return None
            entry = ["i", slot, self.title.validate_input(item["input"])]
            seq = item.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool):
                seq = None
            at = item.get("at", 0)
            if not isinstance(at, int) or isinstance(at, bool):
                raise ValueError(f"at {at!r} is not a tick")
            # No further ahead than the hold allows, counted from the tick it arrived at.
            arrived = item.get("tick")
            if isinstance(arrived, int) and not isinstance(arrived, bool):
                at = min(at, arrived + 1 + self.hold_ticks)
            return entry, seq, at
        except (ValueError, KeyError, TypeError, GameError) as exc:
            # The gateway validates before queueing; this only guards the loop from a bad row.
            log.warning("match %s: dropped input %r: %s", self.match_id, raw[:200], exc)
            reason = getattr(exc, "code", "malformed")
            self._refused[reason] = self._refused.get(reason, 0) + 1
            return None

    # --- statistics ---------------------------------------------------------------------------
    def flush_stats(self) -> None:
        call_now(self.stats_call(), self.redis)

    def stats_call(self) -> Call:
        """The call that adds what happened since the last one to the match's and the shared
        statistics."""
        stats, (ticks, skipped, overruns, since) = self.stats, self._flushed
        now = self.clock()
        # A flush right after another (finish, release) says nothing about the rate.
        rate = round((stats.ticks - ticks) / (now - since), 3) if now - since >= 0.5 else ""
        self._flushed = (stats.ticks, stats.skipped, stats.overruns, now)
        counts = {
            "ticks": stats.ticks - ticks, "ticks_skipped": stats.skipped - skipped,
            "tick_overruns": stats.overruns - overruns,
            # One PUBLISH of the state to the match's group per tick run.
            store.BROADCASTS + "state": stats.ticks - ticks,
            **{store.REFUSED + reason: n for reason, n in self._refused.items()},
        }  # fmt: skip
        self._refused = {}
        hists, (jitter, jitter_ms, duration, duration_ms) = [], self._flushed_hists
        self._flushed_hists = now_hists = _histograms(stats)
        for name, before, after, sum_ms in (
            ("tick_jitter", jitter, now_hists[0], now_hists[1] - jitter_ms),
            ("tick_duration", duration, now_hists[2], now_hists[3] - duration_ms),
        ):
            diff = [b - a for a, b in zip(before, after, strict=True)]
            hists += figures.histogram_fields(name, diff, sum_ms)
        wall = time.time()
        # One sparkline sample per interval that says something (the rate's condition): the
        # means of the ticks run since the last flush.
        ran = counts["ticks"]
        spark = store.spark_head(
            at=wall, tick_ms=(now_hists[3] - duration_ms) / ran if ran else 0.0,
            jitter_ms=(now_hists[1] - jitter_ms) / ran if ran else 0.0,
        ) if rate != "" else ""  # fmt: skip
        return Call(
            self.scripts.flush_stats, store.flush_stats_keys(self.match_id, figures.process_name()),
            [stats.to_json(), wall, rate, spark, store.SPARK_SAMPLES, store.SPARK_TTL_S,
             self.epoch, *_increments(counts), *hists],
        )  # fmt: skip
