"""Reads of running matches for staff pages: what Redis says about them right now.

Like the selectors, but over Redis: ``figures()`` serves a whole admin page in one pipeline
(one round trip, however many matches are listed); ``detail()`` is one match's live view.
Keys read here are written by the runner (``realtime.store``, ``realtime.engine.stats``; the
sparkline history ``m:{id}:spark`` by its stats flush) and the gateway (``m:{id}:sockets``,
``m:{id}:rtt``, see ``realtime.gateway.seats``).
"""

import json
from dataclasses import asdict, dataclass

from matches.titles import get_title
from realtime import store
from realtime.engine.stats import TickStats


@dataclass(frozen=True)
class Figures:
    """A running match at a glance (the admin's list columns)."""

    tick: int | None
    status: str | None  # the runner's: running or finished; None before the begin
    connected: int  # player slots with an open socket
    tick_rate: float | None  # ticks per second between the runner's last two stats flushes
    jitter_p99_ms: float | None
    overruns: int | None
    skipped: int | None
    stats_at: float | None  # wall time of the last stats flush

    def as_dict(self) -> dict:
        return asdict(self)


def _num(raw: bytes | None, cast=float):
    return cast(raw) if raw is not None else None


def figures(match_ids: list[int]) -> dict[int, Figures]:
    """Live figures of each match, read in one pipeline."""
    if not match_ids:
        return {}
    pipe = store.client().pipeline(transaction=False)
    for match_id in match_ids:
        pipe.hmget(store.key(match_id, "state"), ["tick", "status"])
        pipe.hmget(store.key(match_id, "stats"), ["json", "updated", "rate"])
        pipe.hlen(store.key(match_id, "sockets"))
    replies = pipe.execute()
    out = {}
    for index, match_id in enumerate(match_ids):
        (tick, status), (stats_json, updated, rate), sockets = replies[3 * index : 3 * index + 3]
        stats = json.loads(stats_json) if stats_json else {}
        out[match_id] = Figures(
            tick=_num(tick, int),
            status=status.decode() if status else None,
            connected=int(sockets),
            tick_rate=round(float(rate), 2) if rate is not None else None,
            jitter_p99_ms=stats.get("jitter_p99_ms"),
            overruns=stats.get("overruns"),
            skipped=stats.get("skipped"),
            stats_at=_num(updated),
        )
    return out


def detail(match_id: int) -> dict | None:
    """One match's live view: state, tick statistics, lease, and each slot's socket and RTT.

    None when Redis holds nothing for the match (not begun yet, or its keys were dropped).
    """
    pipe = store.client().pipeline(transaction=False)
    pipe.hgetall(store.key(match_id, "meta"))
    pipe.hmget(store.key(match_id, "state"), ["state", "tick", "epoch", "status", "absent"])
    pipe.hmget(store.key(match_id, "stats"), ["json", "updated", "rate"])
    pipe.get(store.key(match_id, "lease"))
    pipe.get(store.key(match_id, "control"))
    pipe.hgetall(store.key(match_id, "sockets"))
    pipe.hgetall(store.key(match_id, "rtt"))
    pipe.llen(store.key(match_id, "inputs"))
    pipe.lrange(store.key(match_id, "spark"), 0, -1)
    meta, state, stats, lease, control, sockets, rtt, pending, spark = pipe.execute()
    if not meta or state[0] is None:
        return None
    raw_state, tick, epoch, status, absent = state
    title = get_title(meta[b"title"].decode())
    players = int(meta[b"players"])
    bots = set(json.loads(meta[b"bots"]))
    absent = {int(k): v for k, v in json.loads(absent or b"{}").items()}
    sockets = {k.decode(): v.decode() for k, v in sockets.items()}
    rtt = {k.decode(): float(v) for k, v in rtt.items()}
    stats_json, updated, rate = stats
    state_now = json.loads(raw_state)
    return {
        "tick": int(tick or 0),
        "epoch": int(epoch or 0),
        "status": status.decode() if status else None,
        "lease_holder": lease.decode() if lease else None,
        "stop_requested": control.decode() if control else None,
        "pending_inputs": pending,
        "tick_rate": round(float(rate), 2) if rate is not None else None,
        "stats_at": _num(updated),
        "stats": TickStats.from_json(stats_json).summary(),
        "slots": [
            {
                "slot": slot,
                "bot": slot in bots,
                # A socket is open for the slot (the gateway holds one per playing slot).
                "socket": str(slot) in sockets,
                "away_since": absent.get(slot),
                "rtt_ms": rtt.get(str(slot)),
            }
            for slot in range(players)
        ],
        "spectators_with_rtt": sum(1 for field in rtt if field.startswith("spectator:")),
        "scores": title.result(state_now).get("scores", []),
        "snapshot": title.snapshot(state_now),
        "history": history([json.loads(raw) for raw in spark]),
    }


# The live view's sparklines: the history's column, its caption, its unit.
SPARKLINES = (
    ("tick_ms", "tick duration (mean)", "ms"),
    ("jitter_ms", "tick start jitter (mean)", "ms"),
    ("sockets", "connected sockets", ""),
)


def history(samples: list[list]) -> dict:
    """The sparkline samples (``store.load_spark``) as columns, oldest first: what the live
    view draws (realtime/ops/static/ops/live.js)."""
    columns = ("at", "tick_ms", "jitter_ms", "sockets")
    return {name: [sample[i] for sample in samples] for i, name in enumerate(columns)}
