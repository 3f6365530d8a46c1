"""Rematch: the same players again in a new match, once every human of the finished one said
yes. One "no" closes the offer, and so does time: REMATCH_OFFER_S after the match ended it has
expired. Answers are kept on the participations; the new match on the old one
(``Match.rematch``), made in the transaction of the last "yes"."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from matches import services
from matches.errors import MatchClosed, NotAParticipant, NotOver, RematchDeclined, RematchExpired
from matches.models import Match, Participation, Player

Answer = Participation.Rematch
OPEN, DECLINED, MADE, EXPIRED = "open", "declined", "made", "expired"


def _expired(match: Match) -> bool:
    if match.ended_at is None:
        return False
    return timezone.now() - match.ended_at > datetime.timedelta(seconds=settings.REMATCH_OFFER_S)


def _humans(match: Match) -> list[Participation]:
    return list(match.participations.filter(is_bot=False).select_related("player").order_by("slot"))


def rematch_state(*, match: Match) -> dict:
    """Where the offer stands: open, declined or made (with the new match's public id)."""
    humans = _humans(match)
    if match.rematch_id is not None:
        status = MADE
    elif any(p.rematch == Answer.NO for p in humans):
        status = DECLINED
    elif _expired(match):
        status = EXPIRED
    else:
        status = OPEN
    return {
        "status": status,
        "match": match.rematch.public_id if match.rematch_id else None,
        "answers": [{"slot": p.slot, "name": p.name, "answer": p.rematch or None} for p in humans],
    }


@transaction.atomic
def rematch_answer(*, match_id: int, player: Player, accept: bool) -> Match:
    """Record ``player``'s answer; the last yes creates the new match and starts its countdown."""
    match = services._locked(match_id)
    if match.status != Match.Status.FINISHED:
        raise NotOver(f"match {match.public_id} is {match.status}: a rematch follows a finish")
    humans = _humans(match)
    seat = next((p for p in humans if p.player_id == player.pk), None)
    if seat is None:
        raise NotAParticipant(f"{player.display_name} did not play match {match.public_id}")
    if match.rematch_id is not None:
        if accept:
            return match
        raise MatchClosed(f"the rematch of {match.public_id} has already been made")
    if accept and any(p.rematch == Answer.NO for p in humans):
        no = next(p.name for p in humans if p.rematch == Answer.NO)
        raise RematchDeclined(f"{no} declined the rematch")
    if accept and _expired(match):
        raise RematchExpired(f"the rematch offer of {match.public_id} expired "
                             f"{settings.REMATCH_OFFER_S:g} s after the match ended")  # fmt: skip
    seat.rematch = Answer.YES if accept else Answer.NO
    seat.save(update_fields=["rematch"])
    if accept and all(p.rematch == Answer.YES for p in humans):
        match.rematch = _new_match(match, [p.player for p in humans])
        match.save(update_fields=["rematch"])
    return match


def _new_match(old: Match, players: list[Player]) -> Match:
    had_bots = old.participations.filter(is_bot=True).exists()
    return services.match_create_seated(title=old.title, settings=old.settings, players=players,
                                        fill_with_bots=had_bots)  # fmt: skip
