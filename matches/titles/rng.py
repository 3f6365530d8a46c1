"""A tiny deterministic PRNG whose whole state is one int (splitmix64).

The state is a plain ``int`` in ``0 .. 2**64 - 1`` so it can live inside a game
state dict, survive a JSON (or msgpack) round trip and continue exactly where it
left off.  Every function is pure: it takes the state and returns ``(value,
new_state)``.  Nothing here touches the ``random`` module or any global state.

``hash_u64`` / ``hash_unit`` are stateless mixers used by bots, which must be
pure functions of the game state: they derive their "randomness" from values
already in the state (a seed, the tick, a counter) instead of advancing an RNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_INV_2_53 = 1.0 / (1 << 53)

T = TypeVar("T")


def mix64(z: int) -> int:
    """The splitmix64 finaliser: a bijective 64-bit avalanche mix."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def seed_state(seed: int, stream: int = 0) -> int:
    """Turn a user seed (any non-negative int) into an RNG state.

    ``stream`` selects an independent sequence for the same seed (e.g. one for
    the rules and one for bots).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return hash_u64(seed & MASK64, seed >> 64, stream)


def next_u64(s: int) -> tuple[int, int]:
    """Return a uniformly distributed 64-bit value and the next state."""
    s = (s + _GOLDEN) & MASK64
    return mix64(s), s


def random(s: int) -> tuple[float, int]:
    """A float in ``[0, 1)`` with 53 random bits."""
    s = (s + _GOLDEN) & MASK64
    return (mix64(s) >> 11) * _INV_2_53, s


def uniform(s: int, a: float, b: float) -> tuple[float, int]:
    """A float in ``[a, b)`` (``[a, b]`` up to rounding)."""
    r, s = random(s)
    return a + (b - a) * r, s


def randint(s: int, a: int, b: int) -> tuple[int, int]:
    """An int in ``[a, b]`` (both inclusive), unbiased (rejection sampling)."""
    if b < a:
        raise ValueError("randint: empty range")
    n = b - a + 1
    if n == 1:
        return a, s
    words = ((n - 1).bit_length() + 63) >> 6  # 64-bit draws per candidate (1 up to 2**64)
    span = 1 << (64 * words)
    limit = span - span % n
    while True:
        v, s = next_u64(s)
        for _ in range(words - 1):
            x, s = next_u64(s)
            v = (v << 64) | x
        if v < limit:
            return a + v % n, s


def choice(s: int, seq: Sequence[T]) -> tuple[T, int]:
    """A uniformly chosen element of a non-empty sequence."""
    i, s = randint(s, 0, len(seq) - 1)
    return seq[i], s


def shuffled(s: int, items: Sequence[T]) -> tuple[list[T], int]:
    """A shuffled copy of ``items`` (Fisher-Yates)."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j, s = randint(s, 0, i)
        out[i], out[j] = out[j], out[i]
    return out, s


def hash_u64(*values: int) -> int:
    """Stateless: mix any number of ints into one 64-bit value."""
    h = 0x6A09E667F3BCC909
    for v in values:
        h = mix64(h ^ ((v & MASK64) + _GOLDEN))
    return h


def hash_unit(*values: int) -> float:
    """Stateless: a float in ``[0, 1)`` derived from ``values``."""
    return (hash_u64(*values) >> 11) * _INV_2_53


# --- helpers working on a state dict holding the RNG under ``key`` -------------


def draw_uniform(state: dict, a: float, b: float, key: str = "rng") -> float:
    value, state[key] = uniform(state[key], a, b)
    return value


def draw_randint(state: dict, a: int, b: int, key: str = "rng") -> int:
    value, state[key] = randint(state[key], a, b)
    return value
