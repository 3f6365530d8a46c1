"""Counters shared by every process, in one Redis hash (read by ``realtime.ops.metrics``).

    metrics:counters  hash  ticks, ticks_skipped, tick_overruns, broadcasts:<kind>,
                            inputs_refused:<reason>

Each process adds with HINCRBY, so N Daphnes and M tick workers sum up without a push
gateway. Kept free of Django and prometheus imports: the tick runner uses it.
"""

from realtime import store

COUNTERS = "metrics:counters"
REFUSED = "inputs_refused:"
BROADCASTS = "broadcasts:"


def increments(counts: dict[str, int]) -> list:
    """``counts`` as the flat ``name, n, ...`` pairs a script HINCRBYs into COUNTERS; zeros
    are skipped."""
    return [x for name, n in counts.items() if n for x in (name, n)]


def count_refused_input(reason: str, n: int = 1) -> None:
    """For the gateway (sync code): an input refused before it reached the runner."""
    store.client().hincrby(COUNTERS, REFUSED + reason, n)


async def count_refused_input_async(client, reason: str, n: int = 1) -> None:
    """The same from async code, on the caller's ``redis.asyncio`` client."""
    await client.hincrby(COUNTERS, REFUSED + reason, n)
