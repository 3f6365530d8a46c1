"""The supervisor heartbeat (Celery beat, every SUPERVISOR_INTERVAL_S): keeps every live
match running exactly once and moves matches along their lifecycle.

Each pass: begins matches whose countdown elapsed; re-dispatches running matches whose lease
expired (their worker died or let go); finishes in the database matches whose final state is
in Redis; aborts running matches whose state Redis lost and waiting matches nobody joined in
time; drops the Redis keys of matches finished longer ago than the retention period.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from matches import selectors, services
from matches.errors import MatchError
from matches.titles import get_title
from realtime import groups, store
from realtime.engine import dispatch

log = logging.getLogger(__name__)


def begin(match_id: int) -> None:
    """countdown → running: the initial state goes to Redis, then the match to a tick worker."""
    match = services.match_begin(match_id=match_id)
    title = get_title(match.title)
    participations = list(match.participations.all())
    meta = store.Meta(
        match_id=match.pk,
        public_id=match.public_id,
        title=match.title,
        tick_hz=match.tick_hz,
        players=len(participations),
        bots=tuple(p.slot for p in participations if p.is_bot),
    )
    initial = title.initial_state(players=meta.players, seed=match.seed, settings=match.settings)
    snapshot = groups.first_snapshot(title=title, state=initial, players=meta.players)
    store.init_match(meta=meta, state=initial, snapshot=snapshot)
    store.mark_dispatched(match.pk)
    dispatch.run_match(match.pk)


def finish(match_id: int) -> bool:
    """Write the final state's result to the database once; True if this call did it."""
    saved = store.load_state(match_id)
    if not saved or saved["status"] != "finished":
        return False
    try:
        match = services.match_finish(
            match_id=match_id,
            result=saved["result"],
            stats=store.load_stats(match_id),
            replay_log=store.load_log(match_id),
            final_tick=saved["tick"],
        )
    except MatchError:
        return False  # already finished or aborted: a retried finish changes nothing
    # After the write, so a socket that connects on seeing `over` finds the match over.
    groups.match_over(match, tick=saved["tick"])
    return True


def check_running(match_ids: list[int], report: dict) -> None:
    """Resume, finish or abort the running matches that have no lease; those with one (nearly
    all) cost two commands of a shared pipeline (store.lease_gaps), not a round trip each."""
    for match_id, status in store.lease_gaps(match_ids):
        if status is None:
            match = services.match_abort(
                match_id=match_id,
                reason="match state lost: Redis restarted without persistence (see operations.md)",
            )
            groups.match_over(match)  # sockets waiting for states learn why none come
            report["aborted"] += 1
        elif status == "finished":
            finish(match_id)
            report["finished"] += 1
        elif store.mark_dispatched(match_id):
            log.warning("match %s: no lease; re-dispatching", match_id)
            dispatch.run_match(match_id)
            report["dispatched"] += 1


def supervise_once() -> dict:
    now = timezone.now()
    report = {"begun": 0, "dispatched": 0, "finished": 0, "aborted": 0, "dropped": 0}
    for match_id in selectors.countdowns_elapsed(now=now):
        try:
            begin(match_id)
            report["begun"] += 1
        except MatchError as exc:
            log.info("match %s: not begun: %s", match_id, exc.reason)
    check_running(selectors.running_match_ids(), report)
    cutoff = now - timedelta(seconds=settings.MATCH_WAITING_TIMEOUT_S)
    for match_id in selectors.waiting_since(before=cutoff):
        try:
            match = services.match_abort(
                match_id=match_id, reason="abandoned: nobody joined in time"
            )
            groups.match_over(match)
            report["aborted"] += 1
        except MatchError:
            pass
    # After check_running: a pass that could not write a finished result raised before here.
    r = store.client()
    expired = r.zrangebyscore(store.FINISHED_INDEX, 0, time.time() - settings.MATCH_RETENTION_S)
    for raw in expired:
        store.drop_match(int(raw))
        report["dropped"] += 1
    return report
