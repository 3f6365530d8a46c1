"""When a load-test client tries its socket again: as the browser does (frontend/static/
frontend/net.js), exponential backoff with full jitter, and never after a close that says
trying again cannot help (docs/protocol.md, "Close codes").

Full jitter (a delay drawn from zero to the ceiling, not around it) spreads a crowd that lost
the same server over the whole window, so a restarted Daphne, and nginx's limit in front of it
(deploy/nginx.conf), see a ramp instead of a wall.
"""

import random

FIRST_S = 0.25  # the first ceiling; net.js BACKOFF_FIRST_MS
MAX_S = 8.0  # net.js BACKOFF_MAX_MS
# The player left, the match is unknown or over, another tab took the seat.
FINAL_CLOSES = frozenset({1000, 4404, 4409, 4410})


def is_final(close_code: int | None) -> bool:
    return close_code in FINAL_CLOSES


class Backoff:
    """The delays of one client's consecutive failed attempts; ``reset`` after a welcome."""

    def __init__(self, rng: random.Random, *, first_s: float = FIRST_S,
                 max_s: float = MAX_S) -> None:  # fmt: skip
        if not 0 < first_s <= max_s:
            raise ValueError(f"backoff needs 0 < first_s <= max_s, got {first_s}, {max_s}")
        self.rng, self.first_s, self.max_s = rng, first_s, max_s
        self.attempt = 0

    def ceiling(self) -> float:
        return min(self.max_s, self.first_s * 2 ** min(self.attempt, 32))

    def next_delay(self) -> float:
        delay = self.rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
