"""This Daphne's figures for /metrics (``realtime.figures``): integers the consumer and the
hub bump on the hot path, and a flush once a second that adds them to the process's Redis
hash along with its gauges (open sockets, bytes written and not yet sent).

Hot path cost: two integer increments per state frame sent; everything else happens per
socket event (close, refused input) or per flush.
"""

import asyncio
import logging
import time

from realtime import figures, store
from realtime.gateway import daphne, relay

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 1.0


class Sent:
    __slots__ = ("bytes", "frames")

    def __init__(self) -> None:
        self.frames = self.bytes = 0


SENT = Sent()  # frames and their bytes, whichever path wrote them
FIGURES = figures.Figures()  # closes by code, refusals by reason, input -> state latency
_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_seen: dict[str, int] = {}  # connection -> its reconnects at the last flush


def start(hub) -> None:
    """Flush this loop's figures once a second from now on (the hub calls it when it starts)."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_flush_forever(hub))


async def _flush_forever(hub) -> None:
    while True:
        await asyncio.sleep(FLUSH_EVERY_S)
        try:
            await flush(hub)
        except Exception as exc:  # Redis away: the figures wait for the next flush
            log.debug("figures not flushed: %s", exc)


async def flush(hub) -> None:
    frames, sent_bytes = SENT.frames, SENT.bytes
    SENT.frames = SENT.bytes = 0
    reconnects = relay.input_pipe_reconnects()
    FIGURES.count(store.RECONNECTS + "inputs", reconnects - _seen.get("inputs", 0))
    _seen["inputs"] = reconnects
    FIGURES.count("ws_frames_sent", frames)
    FIGURES.count("ws_bytes_sent", sent_bytes)
    members = [member for group in hub.members.values() for member in group]
    FIGURES.gauges["ws_sockets"] = len(members)
    FIGURES.gauges["ws_write_backlog_bytes"] = sum(
        daphne.backlog(member.socket) for member in members if member.socket is not None
    )
    increments, gauges = FIGURES.take()
    keys, args = store.flush_process_args(figures.process_name(), increments, gauges,
                                          now=time.time())  # fmt: skip
    try:
        await relay.flush_process(keys=keys, args=args)
    except Exception:
        # Not written: the counters' increments go back for the next flush (the histogram
        # buckets of that second are dropped).
        for field, n in zip(increments[::2], increments[1::2], strict=True):
            if field.startswith("c:"):
                FIGURES.count(field[2:], n)
        raise
