"""``GET|POST /api/matches/<id>/rematch``: the after-match offer to play again (docs/protocol.md).

The match's sockets are closed once it is over, so the page asks about once a second; the
last "yes" makes the new match, whose id the answer carries for everyone to open.
"""

from django.http import HttpRequest, JsonResponse

from matches import rematch, selectors
from realtime.lobby.api import _body, _field, _only, _player, api


@api("GET", "POST")
def offer(request: HttpRequest, public_id: str) -> JsonResponse:
    match = selectors.match_get(public_id=public_id)
    if request.method == "POST":
        player = _player(request)
        data = _body(request)
        _only(data, {"accept"})
        accept = _field(data, "accept", bool, None)
        match = rematch.rematch_answer(match_id=match.pk, player=player, accept=accept)
    return JsonResponse({"rematch": rematch.rematch_state(match=match)})
