"""History, leaderboards and replays as JSON (read-only; see docs/protocol.md, "Lobby API").

A replay is served as frames the server re-simulates from the match's seed and input log
(matches.replay): the browser draws them with the live renderers, and seeking is a request
for the frames from another tick.
"""

from django.http import HttpRequest, JsonResponse

from matches import replay, selectors
from matches.titles import TITLES, get_title
from realtime.lobby.api import ApiError, _match_json, api

MAX_FRAMES = 900  # 30 s of a 30 Hz match per request


@api("GET")
def leaderboard(request: HttpRequest, title: str) -> JsonResponse:
    if title not in TITLES:
        raise ApiError(404, "unknown_title", f"no title {title!r}")
    rows = selectors.leaderboard(title=title)
    return JsonResponse({
        "title": title,
        "system": TITLES[title].rating_system,
        "ratings": [{"player": r.player_id, "name": r.player.display_name, **_rating(r)}
                    for r in rows],
    })  # fmt: skip


def _rating(r) -> dict:
    """``rating`` is what boards rank by: Elo's rating or OpenSkill's mu - 3 sigma."""
    return {"system": r.system, "rating": round(r.rating),
            "mu": None if r.mu is None else round(r.mu, 1),
            "sigma": None if r.sigma is None else round(r.sigma, 1),
            "games": r.games, "wins": r.wins, "losses": r.losses, "draws": r.draws}  # fmt: skip


@api("GET")
def player(request: HttpRequest, player_id: int) -> JsonResponse:
    who = selectors.player_get(player_id=player_id)
    return JsonResponse({
        "player": {"id": who.pk, "name": who.display_name},
        "ratings": {r.title: _rating(r) for r in who.ratings.all()},
        "matches": [_match_json(m, you=who) for m in selectors.player_matches(player=who)],
    })  # fmt: skip


@api("GET")
def replay_frames(request: HttpRequest, public_id: str) -> JsonResponse:
    kept = selectors.replay_get(public_id=public_id)
    start = _int_param(request, "from", 0, 0, kept.ticks)
    count = _int_param(request, "count", 300, 1, MAX_FRAMES)
    match = kept.match
    people = list(match.participations.order_by("slot"))
    game = get_title(match.title)
    # A tick can appear twice (inputs applied at the last tick end it without a step): the
    # later state of a tick is the one the live match showed.
    frames: dict[int, dict] = {}
    for state in replay.states(
        title=match.title, players=len(people), bots=tuple(p.slot for p in people if p.is_bot),
        seed=match.seed, settings=match.settings, log=replay.unpack_log(kept.log),
        max_ticks=kept.ticks,
    ):  # fmt: skip
        tick = state["tick"]
        if tick >= start + count:
            break
        if tick >= start:
            frames[tick] = game.snapshot(state)
    return JsonResponse({
        "match": _match_json(match),
        "ticks": kept.ticks,
        "tick_hz": match.tick_hz,
        "from": start,
        "frames": [frames[tick] for tick in sorted(frames)],
        "result": kept.result,
    })  # fmt: skip


def _int_param(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_parameter", f"{name} must be between {lo} and {hi}")
    return value
