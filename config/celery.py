"""The Celery app: two queues and the beat schedule, defined here and nowhere else."""

import gc
import logging
import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from kombu import Queue

from realtime.engine import dispatch

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("arcade")
app.config_from_object("django.conf:settings", namespace="CELERY")

# `ticks` carries the long-lived match loops and is consumed only by the tick worker;
# `default` carries short jobs (finishing a match in the database, housekeeping).
app.conf.task_queues = (Queue("default"), Queue("ticks"))
app.conf.task_routes = {dispatch.RUN_MATCH: {"queue": "ticks"}}


def _beat_schedule() -> dict:
    from django.conf import settings

    return {
        "supervise-matches": {
            "task": dispatch.SUPERVISE,
            "schedule": settings.SUPERVISOR_INTERVAL_S,
            # A heartbeat that missed its slot is worthless once the next one is due.
            "options": {"queue": "default", "expires": settings.SUPERVISOR_INTERVAL_S},
        },
    }


app.conf.beat_schedule = _beat_schedule()


class SupervisorAtDebug(logging.Filter):
    """Celery's INFO lines about the supervisor's task (beat sends it, the worker receives it,
    it succeeded: three a second, forever; an expired one discarded) become DEBUG: shown only
    at ``-l DEBUG``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or dispatch.SUPERVISE not in record.getMessage():
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


for _name in ("celery.beat", "celery.worker.strategy", "celery.worker.request", "celery.app.trace"):
    logging.getLogger(_name).addFilter(SupervisorAtDebug())
app.autodiscover_tasks(["realtime.engine"])


@worker_ready.connect
@worker_process_init.connect
def freeze_startup_heap(**_) -> None:
    """Move everything loaded so far (Django, Celery, the modules) out of the collector's sight.

    A full collection of the tick worker's heap pauses every match of the worker at once
    (docs/benchmarks.md). Frozen objects are never scanned again, so full collections only
    walk what the matches allocated since. (`worker_process_init` runs in prefork children,
    `worker_ready` in a gevent worker's one process.)
    """
    gc.freeze()
