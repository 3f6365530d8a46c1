"""``POST /api/quickplay`` and ``POST /api/quickplay/cancel``: the matchmaking queue over HTTP.

The lobby asks with ``{"title": "pong"}`` about once a second until the ticket says
``matched``; the reply's ``match`` is the public id to open. Errors have the lobby API's
shape, ``{"error": code, "reason": ...}`` (docs/protocol.md), through the API's own
decorator. The session's player is the one who queues: a visitor without a nickname gets
403 ``no_player``.
"""

from django.http import HttpRequest, JsonResponse

from realtime.lobby import matchmaking
from realtime.lobby.api import ApiError, _body, _player, api


def _title(request: HttpRequest) -> str:
    data = _body(request)
    if set(data) != {"title"} or not isinstance(data["title"], str):
        raise ApiError(400, "bad_request", 'send {"title": "<title name>"}')
    return data["title"]


@api("POST")
def quickplay(request: HttpRequest) -> JsonResponse:
    player = _player(request)
    ticket = matchmaking.quickplay(player=player, title=_title(request))
    return JsonResponse({"ticket": ticket.as_dict()})


@api("POST")
def quickplay_cancel(request: HttpRequest) -> JsonResponse:
    player = _player(request)
    matchmaking.quickplay_cancel(player=player, title=_title(request))
    return JsonResponse({"ticket": None})
