"""A quick-play simulation: players of known skill arrive in a title's queue and ask once a
second, as the lobby does, through the real decision script (``matchmaking.step``) on Redis,
in virtual time. It measures what a matching rule gives: the rating gaps inside the matches
and how long people waited, first come against by rating (``manage.py simulate_quickplay``).
"""

import heapq
import random
import secrets
import statistics
from dataclasses import dataclass, field
from itertools import combinations

from realtime import store
from realtime.lobby import matchmaking

T0 = 1_700_000_000_000
ASK_MS = 1000
# Far above any real player id: the placed keys (mm:placed:<id>) are not per title.
ID_BASE = 10**15


@dataclass
class Report:
    mode: str
    players: int
    matches: int = 0
    with_bots: int = 0  # players who got bots (alone after the wait)
    gaps: list[float] = field(default_factory=list)  # per match: mean pairwise rating gap
    waits: list[float] = field(default_factory=list)  # per player, seconds

    def row(self) -> dict:
        waits = sorted(self.waits)

        def pct(q):
            return waits[min(len(waits) - 1, int(q * len(waits)))] if waits else 0.0

        return {
            "mode": self.mode,
            "players": self.players,
            "matches": self.matches,
            "with_bots_pct": round(100 * self.with_bots / max(1, self.players), 1),
            "mean_gap": round(statistics.fmean(self.gaps), 1) if self.gaps else None,
            "p90_gap": round(sorted(self.gaps)[int(0.9 * len(self.gaps))], 1)
            if self.gaps
            else None,
            "mean_wait_s": round(statistics.fmean(waits), 2) if waits else 0.0,
            "p50_wait_s": round(pct(0.5), 2),
            "p90_wait_s": round(pct(0.9), 2),
            "max_wait_s": round(waits[-1], 2) if waits else 0.0,
        }


def population(n: int, *, seed: int, mean: float = 1200.0, sd: float = 200.0) -> list[float]:
    """The players' skills (their ratings, known exactly); ``run`` makes their arrivals."""
    rng = random.Random(seed)
    return [round(rng.gauss(mean, sd), 1) for _ in range(n)]


def run(*, skills: list[float], per_s: float, seats: int, by_rating: bool, seed: int) -> Report:
    rng = random.Random(seed)
    title = f"sim-{secrets.token_hex(4)}"  # its own queue keys
    arrival, t = {}, 0.0
    events: list[tuple[int, int]] = []
    for index in range(len(skills)):
        t += rng.expovariate(per_s) * 1000
        arrival[ID_BASE + index] = int(t)
        heapq.heappush(events, (int(t), ID_BASE + index))
    report = Report("by rating" if by_rating else "first come", len(skills))
    done: set[int] = set()
    r = store.client()
    try:
        while events:
            now, pid = heapq.heappop(events)
            if pid in done:
                continue
            kind, value = matchmaking.step(title=title, player_id=pid, now_ms=T0 + now,
                                           rating=skills[pid - ID_BASE], seats=seats,
                                           by_rating=by_rating)  # fmt: skip
            if kind == "waiting":
                heapq.heappush(events, (now + ASK_MS, pid))
                continue
            group = [pid] + ([int(x) for x in value.split(",")] if kind == "paired" else [])
            done.update(group)
            report.matches += 1
            report.waits += [(now - arrival[p]) / 1000 for p in group]
            if kind == "bots":
                report.with_bots += 1
            else:
                r.delete(*(matchmaking._placed_key(p) for p in group if p != pid))
                pairs = list(combinations([skills[p - ID_BASE] for p in group], 2))
                report.gaps.append(statistics.fmean(abs(a - b) for a, b in pairs))
    finally:
        r.delete(*store.quickplay_keys(title))
    return report
