"""Schemathesis hooks for tests/realtime/lobby/test_openapi.py (loaded by the CLI through
SCHEMATHESIS_HOOKS, in its own process).

- ``error_body``: every 4xx carries the API's error body, ``{"error": code, "reason": text}``
  and nothing else, whether or not the document lists that status for the operation.
- Path parameters: half of the generated cases name a row the test created (its ids arrive
  in ARCADE_SCHEMATHESIS_IDS), so that the fuzzer reaches the found paths, not only 404s.
"""

import json
import os
import re

import schemathesis
from hypothesis import strategies as st

REAL = json.loads(os.environ.get("ARCADE_SCHEMATHESIS_IDS") or "{}")
CODE = re.compile(r"[a-z][a-z_]*")


@schemathesis.check
def error_body(ctx, response, case):
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(
            f"{response.status_code} is not JSON: {response.text[:200]!r}"
        ) from None
    if not (isinstance(body, dict) and set(body) == {"error", "reason"}
            and isinstance(body["error"], str) and CODE.fullmatch(body["error"])
            and isinstance(body["reason"], str) and body["reason"]):  # fmt: skip
        raise AssertionError(f"{response.status_code} without the error body: {body!r}")
    return True


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    choices = [
        st.just({name: value}) if name not in REAL else
        st.one_of(st.just({name: value}), st.sampled_from(REAL[name]).map(lambda v, n=name: {n: v}))
        for name, value in (path_parameters or {}).items()
    ]  # fmt: skip
    if not choices:
        return st.just(path_parameters)
    return st.tuples(*choices).map(lambda parts: {k: v for part in parts for k, v in part.items()})
