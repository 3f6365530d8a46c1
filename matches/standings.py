"""Ratings kept in the database: each finished match between humans moves them once, by the
title's system (``Title.rating_system``, the math in ``matches.ratings``); all of them can be
recomputed from the match history, in the order the matches ended, with the same code."""

from django.db import transaction

from matches import ratings
from matches.models import Match, Player, Rating
from matches.titles import TITLES

Status = Match.Status


def system_of(title: str) -> str:
    game = TITLES.get(title)
    return game.rating_system if game is not None else ratings.ELO


def skill_of(row: Rating) -> ratings.Skill:
    if row.system != system_of(row.title):
        return ratings.initial(system_of(row.title))  # a row of another system starts anew
    return ratings.Skill(row.rating if row.sigma is None else row.mu, row.sigma)


def matchmaking_rating(*, player: Player, title: str) -> float:
    """What quick play compares: Elo's rating or OpenSkill's mu (one scale, from 1200)."""
    row = Rating.objects.filter(player=player, title=title).first()
    return (skill_of(row) if row is not None else ratings.initial(system_of(title))).mu


def places_of(humans: list[int], result: dict) -> dict[int, float]:
    """Per human slot, higher is better: by the final ranking, all equal in a draw."""
    if result.get("winner") is None:
        return dict.fromkeys(humans, 0.0)
    scores = result.get("scores") or []
    ranking = list(result.get("ranking") or [])
    if not ranking:  # a result without one (staff decided it): by score, best first
        ranking = sorted(range(len(scores)), key=lambda slot: -scores[slot])
    ranking += [slot for slot in humans if slot not in ranking]
    return {slot: -float(ranking.index(slot)) for slot in humans}


def rate_match(match: Match, result: dict) -> None:
    """Move the human players' ratings once for this finished match (in its transaction)."""
    humans = {
        p.slot: p.player for p in match.participations.select_related("player") if not p.is_bot
    }
    if len(humans) < 2:
        return
    places = places_of(sorted(humans), result)
    system = system_of(match.title)
    rows = {
        slot: Rating.objects.select_for_update().get_or_create(player=player, title=match.title)[0]
        for slot, player in humans.items()
    }
    new = ratings.rate(system, {slot: skill_of(row) for slot, row in rows.items()}, places)
    best = max(places.values())
    for slot, row in rows.items():
        skill = new[slot]
        row.system = system
        row.rating = round(skill.shown, 2)
        row.mu = None if skill.sigma is None else round(skill.mu, 4)
        row.sigma = None if skill.sigma is None else round(skill.sigma, 4)
        row.games += 1
        if all(v == best for v in places.values()):
            row.draws += 1
        elif places[slot] == best:
            row.wins += 1
        else:
            row.losses += 1
        row.save()


def recorded_result(match: Match) -> dict:
    """The result a finished match was rated with, from what the database kept of it."""
    summary = match.summary or {}
    ranking = summary.get("ranking")
    if ranking is None and hasattr(match, "replay"):
        ranking = match.replay.result.get("ranking")  # finished before summaries kept it
    return {"winner": summary.get("winner_slot"), "scores": summary.get("scores") or [],
            "ranking": ranking or []}  # fmt: skip


@transaction.atomic
def recompute(*, titles: list[str] | None = None) -> dict[str, int]:
    """Every rating of these titles (default: all) again from the finished matches, oldest
    end first; returns the matches replayed per title."""
    rows = Rating.objects.all() if titles is None else Rating.objects.filter(title__in=titles)
    rows.delete()
    matches = Match.objects.filter(status=Status.FINISHED).select_related("replay")
    if titles is not None:
        matches = matches.filter(title__in=titles)
    counts: dict[str, int] = {}
    for match in matches.order_by("ended_at", "pk").iterator():
        rate_match(match, recorded_result(match))
        counts[match.title] = counts.get(match.title, 0) + 1
    return counts
