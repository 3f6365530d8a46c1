"""Schemathesis hooks for tests/realtime/lobby/test_openapi.py (loaded by the CLI through
SCHEMATHESIS_HOOKS, in its own process).

- ``error_body``: every 4xx carries the API's error body, ``{"error": code, "reason": text}``
  and nothing else, whether or not the document lists that status for the operation.
- Path parameters: half of the generated cases name a row the test created (its ids arrive
  in ARCADE_SCHEMATHESIS_IDS, by parameter name; under "by_path", more for one path only),
  so that the fuzzer reaches the found paths, not only 404s.
- Sessions (ARCADE_SCHEMATHESIS_SESSIONS: name -> its Cookie and X-CSRFToken headers), by
  operation: sign-up, log-in and log-out as a visitor without a session (a success there
  cycles or ends the session it runs in, which would leave the player's session dead for the
  rest of the run); the password change in a session logged in to an account; everything
  else in the session of a guest player. A session the server gives a new key (a password
  change cycles it) follows it, as a browser would.
"""

import json
import os
import re
from http.cookies import SimpleCookie

import schemathesis
from hypothesis import strategies as st

REAL = json.loads(os.environ.get("ARCADE_SCHEMATHESIS_IDS") or "{}")
SESSIONS = json.loads(os.environ.get("ARCADE_SCHEMATHESIS_SESSIONS") or "{}")
CODE = re.compile(r"[a-z][a-z_]*")
AS_VISITOR = {"/api/account/signup", "/api/account/login", "/api/account/logout"}


def _session_of(case) -> str:
    path = case.operation.path
    if path in AS_VISITOR:
        return "visitor"
    return "account" if path == "/api/account/password" else "player"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    session = SESSIONS.get(_session_of(case))
    if session is None:
        return
    cookies = "; ".join(f"{name}={value}" for name, value in session["cookies"].items())
    case.headers = {**(case.headers or {}), "Cookie": cookies, "X-CSRFToken": session["csrf"]}


@schemathesis.hook
def after_call(ctx, case, response):
    name = _session_of(case)
    if name == "visitor" or name not in SESSIONS:
        return
    for header in response.headers.get("set-cookie", []):
        morsel = SimpleCookie(header).get("sessionid")
        if morsel is not None and morsel.value:
            SESSIONS[name]["cookies"]["sessionid"] = morsel.value


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


def _real(ctx, name: str) -> list:
    path = ctx.operation.path if ctx.operation is not None else None
    # The path's own first: Hypothesis draws the first elements of a sample most often.
    return REAL.get("by_path", {}).get(path, {}).get(name, []) + REAL.get(name, [])


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    choices = [
        st.just({name: value}) if not _real(ctx, name) else
        st.one_of(st.just({name: value}),
                  st.sampled_from(_real(ctx, name)).map(lambda v, n=name: {n: v}))
        for name, value in (path_parameters or {}).items()
    ]  # fmt: skip
    if not choices:
        return st.just(path_parameters)
    return st.tuples(*choices).map(lambda parts: {k: v for part in parts for k, v in part.items()})
