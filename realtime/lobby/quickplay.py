"""``POST /api/quickplay`` and ``POST /api/quickplay/cancel``: the matchmaking queue over HTTP.

The lobby asks with ``{"title": "pong"}`` about once a second until the ticket says
``matched``; the reply's ``match`` is the public id to open. Errors have the lobby API's
shape, ``{"error": code, "reason": ...}`` (docs/protocol.md). The session's player is the
one who queues: a visitor without a nickname gets 403 ``no_player``.
"""

import json

from django.http import HttpRequest, JsonResponse

from matches.errors import MatchError
from matches.identity import player_for_session
from realtime.lobby import matchmaking


def _error(status: int, code: str, reason: str) -> JsonResponse:
    return JsonResponse({"error": code, "reason": reason}, status=status)


def _title(request: HttpRequest) -> str | JsonResponse:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "bad_json", "the body is not valid JSON")
    if not isinstance(data, dict) or set(data) != {"title"} or not isinstance(data["title"], str):
        return _error(400, "bad_request", 'send {"title": "<title name>"}')
    return data["title"]


def _handle(request: HttpRequest, act) -> JsonResponse:
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "use POST")
        response["Allow"] = "POST"
        return response
    player = player_for_session(request.session)
    if player is None:
        return _error(403, "no_player", "pick a nickname first (POST /api/me)")
    title = _title(request)
    if isinstance(title, JsonResponse):
        return title
    try:
        return act(player, title)
    except MatchError as exc:
        return _error(400, exc.code, exc.reason)


def quickplay(request: HttpRequest) -> JsonResponse:
    def act(player, title):
        ticket = matchmaking.quickplay(player=player, title=title)
        return JsonResponse({"ticket": ticket.as_dict()})

    return _handle(request, act)


def quickplay_cancel(request: HttpRequest) -> JsonResponse:
    def act(player, title):
        matchmaking.quickplay_cancel(player=player, title=title)
        return JsonResponse({"ticket": None})

    return _handle(request, act)
