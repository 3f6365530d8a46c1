"""The engine's Celery tasks. Thin: they take ids and call the scheduler or the supervisor.

Their names are ``realtime.engine.dispatch``'s; other code dispatches through that module.
"""

import logging
import threading

from celery import shared_task
from celery.signals import worker_shutting_down

from realtime.engine import (
    dispatch,
    heartbeat,  # noqa: F401 (its worker signals start the heartbeat)
    scheduler,
    supervisor,
)
from realtime.engine.match import Outcome

log = logging.getLogger(__name__)

# Set when this worker starts a warm shutdown (SIGTERM): every loop hands its match back.
STOPPING = threading.Event()


@worker_shutting_down.connect
def _on_shutdown(sig=None, how=None, exitcode=None, **kwargs) -> None:
    STOPPING.set()


@shared_task(name=dispatch.RUN_MATCH, ignore_result=True)
def run_match(match_id: int) -> str:
    """The long-lived loop of one match, on the `ticks` queue."""
    if STOPPING.is_set():
        # A shutting-down worker can still be handed a match; pass it on untouched.
        run_match.apply_async(args=[match_id])
        return "handed_over"
    outcome = scheduler.run_match(match_id, stop=STOPPING)
    if outcome is Outcome.RELEASED:
        # Hand over now rather than at the next heartbeat: another worker picks this up.
        run_match.apply_async(args=[match_id])
    elif outcome is Outcome.FINISHED:
        dispatch.finish_match(match_id)
    return outcome.value


@shared_task(name=dispatch.FINISH_MATCH, ignore_result=True)
def finish_match(match_id: int) -> bool:
    return supervisor.finish(match_id)


@shared_task(name=dispatch.SUPERVISE, ignore_result=True)
def supervise() -> dict:
    return supervisor.supervise_once()
