"""Staff control of live matches: the database move (a service) plus what Redis and the tick
workers must learn, and one audit log line per action.

The admin calls these and nothing else; each function raises ``MatchError`` (with a reason a
person can read) when the move is not allowed, before anything has changed where possible.
"""

import logging
import time

from django.db import transaction

from matches import selectors, services
from matches.errors import IllegalTransition, MatchError
from matches.models import AuditLog, Match, Participation
from matches.titles import get_title
from realtime import groups, store
from realtime.engine import supervisor

log = logging.getLogger(__name__)

Status = Match.Status
Action = AuditLog.Action


def _status(match_id: int) -> str:
    status = selectors.match_status(match_id=match_id)
    if status is None:
        raise MatchError(f"no match with id {match_id}", code="unknown_match")
    return status


def _retire(match_id: int) -> None:
    """Index the match for retention: its Redis keys go after MATCH_RETENTION_S, as for a
    match the runner finished (only the runner's last commit indexes it otherwise)."""
    store.client().zadd(store.FINISHED_INDEX, {str(match_id): time.time()})


def start_now(*, match_id: int, actor) -> Match:
    """waiting or countdown → running now: the state goes to Redis, the match to a worker."""
    status = _status(match_id)
    if status == Status.WAITING:
        services.match_start(match_id=match_id, countdown_s=0)
    elif status != Status.COUNTDOWN:
        raise IllegalTransition(
            f"match {match_id} is {status}; only a match not yet running starts"
        )
    # The same begin as the supervisor's; if beat got there first, match_begin refuses.
    supervisor.begin(match_id)
    match = Match.objects.get(pk=match_id)
    services.audit_record(actor=actor, action=Action.START, match=match, details={"from": status})
    log.info("match %s: started now by %s", match_id, actor)
    return match


def staff_result(rules_result: dict) -> dict:
    """The outcome of a match staff ended: the rules' result if the game had finished, else
    the sole leader on score wins (a tie is a draw). Titles give no winner before their end."""
    if rules_result.get("finished", True) or rules_result.get("winner") is not None:
        return rules_result
    summary = f"{rules_result.get('summary', '')} (ended by staff)".strip()
    return {**rules_result, "winner": _sole_leader(rules_result.get("scores", [])),
            "summary": summary}  # fmt: skip


def _sole_leader(scores: list[int]) -> int | None:
    """The slot with the best score, or None when the best score is shared (a draw)."""
    best = max(scores, default=0)
    leaders = [slot for slot, score in enumerate(scores) if score == best]
    return leaders[0] if len(leaders) == 1 else None


def _db_result(match: Match) -> dict:
    """Scores as the database last recorded them, when Redis has no state to read."""
    scores = [0] * match.max_players
    for p in match.participations.all():
        if p.slot < len(scores):
            scores[p.slot] = p.score
    return {
        "scores": scores,
        "winner": _sole_leader(scores),
        "summary": "ended by staff",
    }


def _wait_for_release(match_id: int, timeout_s: float = 1.0) -> None:
    """Give the runner a moment to see the stop: it flushes its tick statistics, then lets
    go of the lease. The state is final either way; only the statistics would be stale."""
    deadline = time.monotonic() + timeout_s
    while store.lease_holder(match_id) and time.monotonic() < deadline:
        time.sleep(0.02)


def end(*, match_id: int, actor) -> Match:
    """running → finished with the scores of the live state.

    The stop request goes first: every commit after it is refused (``_COMMIT`` returns -2),
    so the state read next is final and the runner releases the lease. The database then
    says finished, so the supervisor never re-dispatches the match.
    """
    status = _status(match_id)
    if status != Status.RUNNING:
        raise IllegalTransition(f"match {match_id} is {status}; it cannot become finished")
    store.request_stop(match_id, f"ended by {actor}")
    _wait_for_release(match_id)
    saved = store.load_state(match_id)
    try:
        with transaction.atomic():
            match = Match.objects.get(pk=match_id)
            if saved is None:
                result, extra = _db_result(match), {}
            else:
                rules_result = (
                    saved["result"]
                    if saved["status"] == "finished"
                    else get_title(match.title).result(saved["state"])
                )
                result = staff_result(rules_result)
                extra = {
                    "stats": store.load_stats(match_id),
                    "replay_log": store.load_log(match_id),
                    "final_tick": saved["tick"],
                    "rules_result": rules_result,
                }
            match = services.match_finish(match_id=match_id, result=result, **extra)
            services.audit_record(
                actor=actor,
                action=Action.END,
                match=match,
                details={
                    "tick": saved["tick"] if saved else None,
                    "scores": result.get("scores"),
                    "winner_slot": result.get("winner"),
                },
            )
    except MatchError:
        # Lost a race (someone aborted it meanwhile): let a still-running match run on.
        if selectors.match_status(match_id=match_id) == Status.RUNNING:
            store.client().delete(store.key(match_id, "control"))
        raise
    _retire(match_id)
    groups.match_over(match, tick=saved["tick"] if saved else None)
    log.info("match %s: ended by %s at tick %s", match_id, actor, saved and saved["tick"])
    return match


def abort(*, match_id: int, actor, reason: str) -> Match:
    """→ aborted with a reason; a running match's runner is told to stop."""
    with transaction.atomic():
        match = services.match_abort(match_id=match_id, reason=reason)
        services.audit_record(actor=actor, action=Action.ABORT, match=match, reason=reason)
    if match.started_at is not None:
        store.request_stop(match_id, f"aborted by {actor}: {reason}")
        _retire(match_id)
    groups.match_over(match)
    log.info("match %s: aborted by %s: %s", match_id, actor, reason)
    return match


def kick(*, match_id: int, slot: int, actor, reason: str = "") -> Participation:
    """The player in ``slot`` leaves: the seat is freed before the start, forfeited once live."""
    with transaction.atomic():
        participation = services.participation_kick(match_id=match_id, slot=slot)
        match = Match.objects.get(pk=match_id)
        services.audit_record(
            actor=actor,
            action=Action.KICK,
            match=match,
            reason=reason,
            details={"slot": slot, "player": participation.name},
        )
    if match.status in Match.LIVE_STATUSES:
        # Through the inputs list, so the runner applies it between two ticks like any input
        # (and the replay log has it); before the first tick it waits there for the runner.
        store.push_forfeit(match_id=match_id, slot=slot, reason=f"kicked by {actor}")
    groups.match_status(match)
    log.info("match %s: slot %s kicked by %s: %s", match_id, slot, actor, reason)
    return participation


def create_with_bots(*, actor, title: str, settings: dict, bots: int, start: bool) -> Match:
    """A match with ``bots`` bots seated; started now, or left open for humans to fill (bots
    take the seats still empty when it begins)."""
    with transaction.atomic():
        match = services.match_create(title=title, settings=settings, fill_with_bots=True)
        services.match_seat_bots(match_id=match.pk, count=bots)
        if start:
            services.match_start(match_id=match.pk, countdown_s=0)
        services.audit_record(
            actor=actor,
            action=Action.CREATE,
            match=match,
            details={
                "title": match.title,
                "settings": match.settings,
                "bots": bots,
                "start": start,
            },
        )
    if start:
        supervisor.begin(match.pk)
    log.info("match %s: created by %s with %s bot(s)", match.pk, actor, bots)
    return Match.objects.get(pk=match.pk)
