"""Shared helpers of the game-rule tests (no Django)."""

from __future__ import annotations

import json
import math
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Modest, deterministic hypothesis settings so the suite stays fast. For a deeper random
# search: GAMES_MAX_EXAMPLES=500 python -m unittest discover -s tests/matches/titles -t .
_DEEP = int(os.environ.get("GAMES_MAX_EXAMPLES", "0"))
PROPERTY = settings(
    max_examples=_DEEP or 25,
    deadline=None,
    derandomize=not _DEEP,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

seeds = st.integers(min_value=0, max_value=2**63)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


def roundtrip(state: dict) -> dict:
    """What the engine gets back after storing the state as JSON."""
    return json.loads(json.dumps(state, allow_nan=False))


def assert_plain_json(testcase, value, path="state"):
    """Only dict (str keys) / list / str / int / finite float / bool / None."""
    if isinstance(value, dict):
        for k, v in value.items():
            testcase.assertIsInstance(k, str, f"{path} has a non-str key {k!r}")
            assert_plain_json(testcase, v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain_json(testcase, v, f"{path}[{i}]")
    elif isinstance(value, float):
        testcase.assertTrue(math.isfinite(value), f"{path} is not finite")
    else:
        testcase.assertIsInstance(value, str | int | bool | type(None), path)


def feed(title, state, slot, payload):
    """Validate and apply one input, as the engine does."""
    return title.apply_input(state, slot, title.validate_input(payload))


def run_bots(title, *, players, seed, settings=None, max_ticks=100_000, on_tick=None):
    """Every slot a bot; returns (state, ticks). ``on_tick(state, inputs)`` is called per tick."""
    state = title.initial_state(players=players, seed=seed, settings=settings or {})
    ticks = 0
    while not title.is_finished(state) and ticks < max_ticks:
        inputs = {}
        for slot in range(players):
            inp = title.bot_input(state, slot)
            if inp is not None:
                inputs[slot] = inp
                feed(title, state, slot, inp)
        title.step(state)
        ticks += 1
        if on_tick is not None:
            on_tick(state, inputs)
    return state, ticks
