"""Pages for players: the lobby and the match page. They read through the selectors and never
write models; everything the pages do afterwards goes through the lobby API and the match
socket (docs/protocol.md)."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from frontend.titles import module_url
from matches import selectors
from matches.errors import MatchNotFound
from matches.identity import player_for_session
from matches.titles import TITLES, get_title


def _titles() -> list[dict]:
    out = []
    for title in TITLES.values():
        info = title.describe()
        # A setting with a single possible value is not a choice worth a form field.
        info["fields"] = [
            {"name": name, **field}
            for name, field in info["settings"].items()
            if field.get("min") != field.get("max") or field["type"] == "bool"
        ]
        out.append(info)
    return out


@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    player = player_for_session(request.session)
    titles = _titles()
    return render(
        request,
        "frontend/home.html",
        {
            "titles": titles,
            "player": player,
            "matches": selectors.lobby_matches(),
            "results": selectors.recent_results(limit=10),
            # A guest with a finished match has something to lose: offer the account.
            "signup_prompt": player is not None
            and player.user_id is None
            and selectors.player_has_finished(player=player),
            "lobby_config": {
                "player": {"id": player.pk, "display_name": player.display_name}
                if player
                else None,
                "titles": {t["name"]: t["label"] for t in titles},
                "quickplay_bots_after_s": settings.QUICKPLAY_BOT_AFTER_S,
            },
        },
    )


@ensure_csrf_cookie
def account_page(request: HttpRequest) -> HttpResponse:
    player = player_for_session(request.session)
    account = player.user if player is not None else None
    return render(request, "frontend/account.html", {"player": player, "account": account})


def results_fragment(request: HttpRequest) -> HttpResponse:
    """The recent results list alone, for the lobby to refresh in place."""
    return render(
        request, "frontend/_results.html", {"results": selectors.recent_results(limit=10)}
    )


@ensure_csrf_cookie
def match_page(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        match = selectors.match_get(public_id=public_id)
    except MatchNotFound:
        raise Http404("no such match") from None
    player = player_for_session(request.session)
    seat = selectors.participation_for(match=match, player=player)
    playing = seat is not None and seat.left_at is None
    people = [
        {"slot": p.slot, "name": p.name, "bot": p.is_bot, "connected": p.connected}
        for p in match.participations.select_related("player").order_by("slot")
    ]
    # The socket's welcome is authoritative; this only lets the page draw before it arrives.
    config = {
        "match": match.public_id,
        "title": match.title,
        "module": module_url(match.title),
        "status": match.status,
        "role": "player" if playing else "spectator",
        "slot": seat.slot if playing else None,
        "players": people,
        "max_players": match.max_players,
        "min_players": get_title(match.title).min_players,
        "tick_hz": match.tick_hz,
        "starts_at": match.starts_at.isoformat() if match.starts_at else None,
    }
    can_join = (
        not playing
        and player is not None
        and match.status == match.Status.WAITING
        and len(people) < match.max_players
    )
    return render(
        request,
        "frontend/match.html",
        {
            "match": match,
            "title": get_title(match.title),
            "config": config,
            "playing": playing,
            "can_join": can_join,
            "has_replay": selectors.has_replay(match),
            "player": player,
        },
    )
