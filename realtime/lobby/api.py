"""The lobby API: JSON over HTTP, bound to the Django session, CSRF-protected.

Views parse and check the request, call services and selectors, and shape the reply; domain
errors become 4xx JSON ``{"error": code, "reason": ...}`` by their code. docs/protocol.md
lists every endpoint.
"""

import json
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import ensure_csrf_cookie

from matches import selectors, services
from matches.errors import (
    AlreadyJoined,
    IllegalTransition,
    MatchClosed,
    MatchError,
    MatchFull,
    MatchNotFound,
    NotAParticipant,
    NotOver,
    NotTheHost,
    RematchDeclined,
    RematchExpired,
    ReplayOutdated,
    TooFewPlayers,
)
from matches.identity import player_ensure, player_for_session
from matches.models import Match, Participation, Player
from matches.titles import TITLES
from realtime import groups
from realtime.gateway import seats

_STATUS_BY_ERROR: list[tuple[type[MatchError], int]] = [
    (MatchNotFound, 404),
    (NotAParticipant, 403),
    (NotTheHost, 403),
    (TooFewPlayers, 409),
    (NotOver, 409),
    (RematchDeclined, 409),
    (RematchExpired, 409),
    (ReplayOutdated, 410),
    (MatchFull, 409),
    (AlreadyJoined, 409),
    (MatchClosed, 409),
    (IllegalTransition, 409),
]


class ApiError(Exception):
    def __init__(self, status: int, code: str, reason: str, *, headers: dict | None = None) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason
        self.headers = headers or {}


def _error(status: int, code: str, reason: str) -> JsonResponse:
    return JsonResponse({"error": code, "reason": reason}, status=status)


def api(*methods: str) -> Callable:
    """Method check, CSRF cookie on reads, and errors turned into JSON, for one endpoint."""

    def decorate(view: Callable) -> Callable:
        @ensure_csrf_cookie
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                response = _error(405, "method_not_allowed", f"use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                _refuse_bad_text(request)
                return view(request, *args, **kwargs)
            except ApiError as exc:
                response = _error(exc.status, exc.code, exc.reason)
                for name, value in exc.headers.items():
                    response[name] = value
                return response
            except MatchError as exc:
                status = next((s for cls, s in _STATUS_BY_ERROR if isinstance(exc, cls)), 400)
                return _error(status, exc.code, exc.reason)

        # The OpenAPI test compares these with the operations the document lists.
        wrapper.methods = methods
        return wrapper

    return decorate


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _bad_text(text: str) -> str | None:
    """Why PostgreSQL's text could not hold ``text`` (SQLite takes a NUL), or None."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "a lone surrogate (not UTF-8)"
    return None


def _refuse_bad_text(request: HttpRequest) -> None:
    # Refused at the door, so that every database answers the same 400 (PostgreSQL: a 500).
    texts = [request.path, *(t for k, vs in request.GET.lists() for t in (k, *vs))]
    for text in texts:
        if bad := _bad_text(text):
            raise ApiError(400, "bad_request", f"the path or query holds {bad}")


def _body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "bad_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    pending = [data]  # a loop, not recursion: the parser takes nesting near the stack limit
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and (bad := _bad_text(value)):
            raise ApiError(400, "bad_request", f"a string in the body holds {bad}")
    return data


def _field(data: dict, name: str, kind: type, default: Any) -> Any:
    value = data.get(name, default)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ApiError(400, "bad_request", f"{name!r} must be a {kind.__name__}")
    return value


def _only(data: dict, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(400, "bad_request", f"unknown fields: {', '.join(unknown)}")


def _player(request: HttpRequest) -> Player:
    player = player_for_session(request.session)
    if player is None:
        raise ApiError(403, "no_player", "pick a nickname first (POST /api/me)")
    return player


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _player_json(player: Player | None) -> dict | None:
    if player is None:
        return None
    account = player.user.get_username() if player.user_id else None
    return {"id": player.pk, "display_name": player.display_name, "account": account}


def _seat_json(p: Participation) -> dict:
    return {
        "slot": p.slot,
        "name": p.name,
        "bot": p.is_bot,
        "connected": p.connected,
        "score": p.score,
        "result": p.result,
        "left": p.left_at is not None,
    }


def _match_json(match: Match, *, you: Player | None = None) -> dict:
    people = sorted(match.participations.all(), key=lambda p: p.slot)
    seat = next((p for p in people if you is not None and p.player_id == you.pk), None)
    # As services.host_of decides, from the prefetched seats (no query per listed match).
    host = next((p for p in people if not p.is_bot and p.left_at is None), None)
    out = {
        "id": match.public_id,
        "title": match.title,
        "title_label": match.title_label,
        "status": match.status,
        "settings": match.settings,
        "tick_hz": match.tick_hz,
        "max_players": match.max_players,
        "min_players": TITLES[match.title].min_players if match.title in TITLES else 1,
        "host_slot": host.slot if host is not None else None,
        "fill_with_bots": match.fill_with_bots,
        "created_at": _iso(match.created_at),
        "starts_at": _iso(match.starts_at),
        "started_at": _iso(match.started_at),
        "ended_at": _iso(match.ended_at),
        "players": [_seat_json(p) for p in people],
        "your_slot": seat.slot if seat is not None and seat.left_at is None else None,
        "ws": f"/ws/matches/{match.public_id}/",
        "has_replay": selectors.has_replay(match),
    }
    if match.status == Match.Status.FINISHED:
        out["result"] = {k: match.summary.get(k) for k in ("scores", "winner_slot", "text")}
    if match.status == Match.Status.ABORTED:
        out["abort_reason"] = match.abort_reason
    return out


def _detail(public_id: str, you: Player | None) -> dict:
    match = selectors.match_get(public_id=public_id)
    return _match_json(match, you=you)


# --- endpoints -----------------------------------------------------------------------------

OPENAPI = Path(__file__).with_name("openapi.json")


@cache
def _openapi() -> bytes:
    # Parsed once so that a broken document fails its first request, not a client's parser.
    return json.dumps(json.loads(OPENAPI.read_bytes())).encode()


@api("GET")
def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_openapi(), content_type="application/json")


@api("GET")
def csrf(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"csrf_token": get_token(request)})


@api("GET")
def titles(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"titles": [title.describe() for title in TITLES.values()]})


@api("GET", "POST")
def me(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return JsonResponse({"player": _player_json(player_for_session(request.session))})
    data = _body(request)
    _only(data, {"display_name"})
    name = _field(data, "display_name", str, None)
    player = player_ensure(session=request.session, display_name=name)
    return JsonResponse({"player": _player_json(player)})


@api("GET", "POST")
def matches(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        title = request.GET.get("title") or None
        you = player_for_session(request.session)
        lobby = selectors.lobby_matches(title=title)
        return JsonResponse({"matches": [_match_json(m, you=you) for m in lobby]})
    player = _player(request)
    data = _body(request)
    _only(data, {"title", "settings", "fill_with_bots", "join"})
    title = _field(data, "title", str, None)
    settings = _field(data, "settings", dict, {})
    fill_with_bots = _field(data, "fill_with_bots", bool, False)
    join = _field(data, "join", bool, True)
    match = services.match_create(
        title=title, settings=settings, fill_with_bots=fill_with_bots, created_by=player
    )
    if join:
        services.match_join(match_id=match.pk, player=player)
        match.refresh_from_db(fields=["status"])
        if fill_with_bots and match.status == Match.Status.WAITING:
            # A creator who asked for bots has nobody to wait for: the countdown starts now.
            services.match_host_start(match_id=match.pk, player=player, fill_with_bots=True)
    return JsonResponse({"match": _detail(match.public_id, player)}, status=201)


@api("GET")
def match_detail(request: HttpRequest, public_id: str) -> JsonResponse:
    return JsonResponse({"match": _detail(public_id, player_for_session(request.session))})


@api("POST")
def match_join(request: HttpRequest, public_id: str) -> JsonResponse:
    player = _player(request)
    _only(_body(request), set())
    match = selectors.match_get(public_id=public_id)
    services.match_join(match_id=match.pk, player=player)
    match = selectors.match_get(public_id=public_id)
    groups.match_status(match)
    return JsonResponse({"match": _match_json(match, you=player)})


@api("POST")
def match_start(request: HttpRequest, public_id: str) -> JsonResponse:
    player = _player(request)
    data = _body(request)
    _only(data, {"fill_with_bots"})
    fill_with_bots = _field(data, "fill_with_bots", bool, False)
    match = selectors.match_get(public_id=public_id)
    services.match_host_start(match_id=match.pk, player=player, fill_with_bots=fill_with_bots)
    match = selectors.match_get(public_id=public_id)
    groups.match_status(match)
    return JsonResponse({"match": _match_json(match, you=player)})


@api("POST")
def match_leave(request: HttpRequest, public_id: str) -> JsonResponse:
    player = _player(request)
    _only(_body(request), set())
    match = selectors.match_get(public_id=public_id)
    seats.player_leave(match_id=match.pk, player=player)
    match = selectors.match_get(public_id=public_id)
    groups.match_status(match)
    return JsonResponse({"match": _match_json(match, you=player)})


def _in_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    """JSON for the API (a client reads the reason), Django's page for everything else."""
    if _in_api(request):
        return _error(403, "csrf_failed", f"CSRF check failed: {reason}")
    return django_csrf_failure(request, reason=reason)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a path under /api/ that no route takes (``/api/players/-1``) answers in
    the API's error shape too."""
    if _in_api(request):
        return _error(404, "not_found", f"no such endpoint: {request.path}")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API's clients parse JSON even when the server fails."""
    if _in_api(request):
        return _error(500, "server_error", "the server failed; the error is logged")
    return defaults.server_error(request)
