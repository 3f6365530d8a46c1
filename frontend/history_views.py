"""Pages for looking back: a finished match's replay, a player's history and ratings, the
leaderboard of each title. Read-only, through the selectors; the replay viewer then fetches
its frames from the lobby API (``GET /api/matches/<id>/replay``, docs/protocol.md)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontend.titles import module_url
from matches import selectors
from matches.errors import MatchNotFound, ReplayOutdated
from matches.identity import player_for_session
from matches.models import Match, Rating
from matches.titles import TITLES, get_title

# Frames per replay request: 10 s of a 30 Hz match (the API allows up to 900).
REPLAY_CHUNK = 300


def _rating_row(r: Rating) -> dict:
    # Rounded as the API rounds them (round half to even), so both show the same figure.
    return {
        "player_id": r.player_id, "name": r.player.display_name, "title": r.title,
        "label": TITLES[r.title].label if r.title in TITLES else r.title,
        "rating": round(r.rating), "games": r.games, "wins": r.wins, "losses": r.losses,
        "draws": r.draws, "mu": None if r.mu is None else round(r.mu),
        "sigma": None if r.sigma is None else round(r.sigma),
    }  # fmt: skip


def _title_tabs(current: str | None = None) -> list[dict]:
    return [
        {"name": t.name, "label": t.label, "current": t.name == current} for t in TITLES.values()
    ]


def _headline(winner_slot: int | None, names: dict[int, str]) -> str:
    if winner_slot is None:
        return "Draw"
    return f"{names.get(winner_slot, f'Bot {winner_slot + 1}')} wins"


def _clock(seconds: float) -> str:
    whole = int(seconds)  # as the viewer's clock counts: whole seconds gone
    return f"{whole // 60}:{whole % 60:02d}"


def replay_page(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        kept = selectors.replay_get(public_id=public_id)
    except MatchNotFound:
        raise Http404("no replay of this match") from None
    except ReplayOutdated:
        match = selectors.match_get(public_id=public_id)
        title = TITLES.get(match.title)
        context = {"match": match, "label": title.label if title else match.title}
        return render(request, "frontend/replay_outdated.html", context, status=410)
    match = kept.match
    seats = list(match.participations.select_related("player").order_by("slot"))
    names = {p.slot: p.name for p in seats}
    summary = match.summary or {}
    config = {
        "match": match.public_id,
        "title": match.title,
        "module": module_url(match.title),
        "tick_hz": match.tick_hz,
        "ticks": kept.ticks,
        "chunk": REPLAY_CHUNK,
        "players": [{"slot": p.slot, "name": p.name, "bot": p.is_bot} for p in seats],
        "result": {
            "winner": summary.get("winner_slot"),
            "headline": _headline(summary.get("winner_slot"), names),
            "summary": summary.get("text", ""),
        },
    }
    return render(
        request,
        "frontend/replay.html",
        {
            "match": match,
            "title": get_title(match.title),
            "seats": seats,
            "config": config,
            "duration": _clock(kept.ticks / match.tick_hz),
            "player": player_for_session(request.session),
        },
    )


def player_page(request: HttpRequest, player_id: int) -> HttpResponse:
    try:
        who = selectors.player_get(player_id=player_id)
    except MatchNotFound:
        raise Http404("no such player") from None
    ratings = [_rating_row(r) for r in who.ratings.select_related("player").order_by("title")]
    history = []
    for match in selectors.player_matches(player=who):
        seats = list(match.participations.all())
        seat = next((p for p in seats if p.player_id == who.pk), None)
        history.append({
            "match": match,
            "seat": seat,
            "others": [p for p in seats if p is not seat],
            "outcome": _outcome(match, seat),
        })  # fmt: skip
    return render(
        request,
        "frontend/player.html",
        {
            "who": who,
            "ratings": ratings,
            "history": history,
            "player": player_for_session(request.session),
        },
    )


def _outcome(match: Match, seat) -> str:
    """What the history's result column says about this player's seat in this match."""
    if match.status == Match.Status.FINISHED:
        return seat.get_result_display() if seat is not None and seat.result else "—"
    if match.status == Match.Status.ABORTED:
        return "Aborted"
    return match.get_status_display()


def leaderboard_page(request: HttpRequest, title: str) -> HttpResponse:
    if title not in TITLES:
        raise Http404("no such title")
    return render(
        request,
        "frontend/leaderboard.html",
        {
            "title": get_title(title),
            "tabs": _title_tabs(title),
            "rows": [_rating_row(r) for r in selectors.leaderboard(title=title)],
            "player": player_for_session(request.session),
        },
    )
