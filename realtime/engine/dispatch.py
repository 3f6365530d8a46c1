"""The engine's Celery tasks by name, and handing a match to the tick workers.

Callers (the supervisor, staff control) dispatch through here rather than importing
``realtime.engine.tasks``, which imports them: no import cycle, and the names routing and the
beat schedule use live in one place.
"""

from celery import current_app

RUN_MATCH = "engine.run_match"  # routed to the `ticks` queue (config/celery.py)
FINISH_MATCH = "engine.finish_match"
SUPERVISE = "engine.supervise"


def run_match(match_id: int) -> None:
    """Queue the long-lived loop of a match for a tick worker."""
    current_app.send_task(RUN_MATCH, args=[match_id])


def finish_match(match_id: int) -> None:
    """Queue the database write of a finished match's result."""
    current_app.send_task(FINISH_MATCH, args=[match_id])
