"""Domain operations on players and matches.

Every write to these models goes through a function here: views, admin actions, consumers
and Celery tasks call them and hold no rules of their own. A match's status only moves
forward (waiting → countdown → running → finished | aborted); anything else raises
``IllegalTransition``.
"""

import unicodedata
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from matches import replay, sql, standings
from matches.errors import (
    AlreadyJoined,
    IllegalTransition,
    InvalidMatchSettings,
    MatchClosed,
    MatchError,
    MatchFull,
    MatchNotFound,
    NotAParticipant,
    NotTheHost,
    TooFewPlayers,
)
from matches.models import AuditLog, Match, Participation, Player, Replay
from matches.titles import GameError, get_title

Status = Match.Status

_NEXT: dict[str, frozenset[str]] = {
    Status.WAITING: frozenset({Status.COUNTDOWN, Status.ABORTED}),
    Status.COUNTDOWN: frozenset({Status.RUNNING, Status.ABORTED}),
    Status.RUNNING: frozenset({Status.FINISHED, Status.ABORTED}),
    Status.FINISHED: frozenset(),
    Status.ABORTED: frozenset(),
}

DISPLAY_NAME_MAX = 24


def _check_transition(match: Match, to: str) -> None:
    if to not in _NEXT[match.status]:
        raise IllegalTransition(f"match {match.public_id} is {match.status}; it cannot become {to}")


def _locked(match_id: int) -> Match:
    try:
        return Match.objects.select_for_update().get(pk=match_id)
    except Match.DoesNotExist:
        raise MatchNotFound(f"no match with id {match_id}") from None


def clean_display_name(raw: Any) -> str:
    if not isinstance(raw, str):
        raise MatchError("a display name must be a string", code="bad_name")
    name = " ".join(raw.split())
    if not name:
        raise MatchError("a display name cannot be empty", code="bad_name")
    if len(name) > DISPLAY_NAME_MAX:
        raise MatchError(
            f"a display name has at most {DISPLAY_NAME_MAX} characters", code="bad_name"
        )
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise MatchError("a display name cannot hold control characters", code="bad_name")
    return name


def player_create(*, display_name: str, user=None) -> Player:
    return Player.objects.create(display_name=clean_display_name(display_name), user=user)


def player_rename(*, player: Player, display_name: str) -> Player:
    player.display_name = clean_display_name(display_name)
    player.save(update_fields=["display_name", "last_seen_at"])
    return player


@transaction.atomic
def match_create(
    *,
    title: str,
    settings: dict | None = None,
    created_by: Player | None = None,
    fill_with_bots: bool = False,
    seed: int | None = None,
) -> Match:
    try:
        game = get_title(title)
        clean = game.validate_settings(settings or {})
    except GameError as exc:
        raise InvalidMatchSettings(exc.reason, code=exc.code) from exc
    match = Match(
        title=game.name,
        rules_version=game.version,
        settings=clean,
        tick_hz=game.tick_hz,
        max_players=clean.get("max_players", game.max_players),
        created_by=created_by,
        fill_with_bots=fill_with_bots,
    )
    if seed is not None:
        match.seed = seed
    match.save()
    return match


@transaction.atomic
def match_create_seated(
    *, title: str, players: list[Player], settings: dict | None = None, fill_with_bots: bool
) -> Match:
    """A match with ``players`` seated in order and its countdown started (quick play, a
    rematch); with ``fill_with_bots`` bots take the other seats when it begins."""
    match = match_create(title=title, settings=settings, created_by=players[0],
                         fill_with_bots=fill_with_bots)  # fmt: skip
    for player in players:
        match_join(match_id=match.pk, player=player)
    match.refresh_from_db()
    if match.status == Status.WAITING:
        match = match_start(match_id=match.pk)
    return match


@transaction.atomic
def match_join(*, match_id: int, player: Player) -> Participation:
    """Seat ``player`` in the lowest free slot; a match that fills up starts its countdown."""
    match = _locked(match_id)
    if match.is_over:
        raise MatchClosed(f"match {match.public_id} is {match.status}")
    taken = set(match.participations.values_list("slot", flat=True))
    if match.participations.filter(player=player).exists():
        raise AlreadyJoined(f"{player.display_name} is already in match {match.public_id}")
    if len(taken) >= match.max_players:
        raise MatchFull(f"match {match.public_id} is full ({match.max_players} players)")
    if match.status != Status.WAITING:
        raise MatchClosed(f"match {match.public_id} has already started")
    slot = min(set(range(match.max_players)) - taken)
    try:
        with transaction.atomic():
            participation = Participation.objects.create(match=match, player=player, slot=slot)
    except IntegrityError:
        # The row lock makes this unreachable on PostgreSQL; the constraints still guard it.
        raise MatchFull(f"match {match.public_id} has no free slot") from None
    if len(taken) + 1 == match.max_players:
        match_start(match_id=match.pk)
    return participation


@transaction.atomic
def match_leave(*, match_id: int, player: Player) -> None:
    """Before the start the slot is freed; once running the player is marked as gone."""
    match = _locked(match_id)
    participation = match.participations.filter(player=player).first()
    if participation is None:
        raise NotAParticipant(f"{player.display_name} is not in match {match.public_id}")
    if match.is_over:
        raise MatchClosed(f"match {match.public_id} is {match.status}")
    if match.status == Status.WAITING:
        participation.delete()
        return
    participation.left_at = timezone.now()
    participation.connected = False
    participation.save(update_fields=["left_at", "connected"])


def participation_set_connected(*, match_id: int, player: Player, connected: bool) -> bool:
    """Record whether the player's socket is open; False if they hold no seat to mark.

    One UPDATE, so it is atomic without a lock; a player who left or a match that is over
    keeps ``connected=False``. In plain SQL: every match socket's handshake makes it
    (matches/sql.py).
    """
    changed = sql.write(
        sql.participation_set_connected(),
        [connected, match_id, player.pk, match_id, *sql.PRESENT_STATUSES],
    )
    return changed > 0


@transaction.atomic
def match_start(*, match_id: int, countdown_s: float | None = None) -> Match:
    """waiting → countdown; the supervisor begins the match when the countdown ends."""
    match = _locked(match_id)
    _check_transition(match, Status.COUNTDOWN)
    game = get_title(match.title)
    humans = match.participations.count()
    if humans == 0 and not match.fill_with_bots:
        raise IllegalTransition(f"match {match.public_id} has no players")
    if humans < game.min_players and not match.fill_with_bots:
        raise IllegalTransition(
            f"{game.label} needs {game.min_players} players; match {match.public_id} "
            f"has {humans} and no bots"
        )
    if countdown_s is None:
        countdown_s = django_settings.MATCH_COUNTDOWN_S
    match.status = Status.COUNTDOWN
    match.starts_at = timezone.now() + timedelta(seconds=max(0.0, countdown_s))
    match.save(update_fields=["status", "starts_at"])
    return match


def host_of(match: Match) -> Participation | None:
    """The host: the human in the lowest slot (the creator, slot 0, unless they left)."""
    seats = match.participations.filter(is_bot=False, left_at__isnull=True).order_by("slot")
    return seats.select_related("player").first()


@transaction.atomic
def match_host_start(*, match_id: int, player: Player, fill_with_bots: bool) -> Match:
    """The host says "go": the countdown starts with whoever is seated, bots in the empty
    seats if asked; without bots the title's minimum must be seated."""
    match = _locked(match_id)
    if match.status != Status.WAITING:
        raise MatchClosed(f"match {match.public_id} is {match.status}; it has already started")
    host = host_of(match)
    if host is None or host.player_id != player.pk:
        raise NotTheHost(f"only the host ({host.name if host else 'nobody'}) starts this match")
    game = get_title(match.title)
    seated = match.participations.count()
    if not fill_with_bots and seated < game.min_players:
        raise TooFewPlayers(
            f"{game.label} needs {game.min_players} players; {seated} seated "
            "(start with bots to fill the empty seats)"
        )
    match.fill_with_bots = fill_with_bots
    match.save(update_fields=["fill_with_bots"])
    return match_start(match_id=match.pk)


@transaction.atomic
def match_begin(*, match_id: int) -> Match:
    """countdown → running: with ``fill_with_bots``, bots take every empty slot."""
    match = _locked(match_id)
    _check_transition(match, Status.RUNNING)
    _compact_slots(match)
    taken = set(match.participations.values_list("slot", flat=True))
    if match.fill_with_bots:
        for slot in sorted(set(range(match.max_players)) - taken):
            Participation.objects.create(match=match, is_bot=True, slot=slot, connected=True)
    match.status = Status.RUNNING
    match.started_at = timezone.now()
    match.save(update_fields=["status", "started_at"])
    return match


def _compact_slots(match: Match) -> None:
    """Slots 0..n-1 without gaps (someone left before the start): games number players so."""
    participations = list(match.participations.order_by("slot"))
    if [p.slot for p in participations] == list(range(len(participations))):
        return
    # Two steps, so that no intermediate state collides with the unique (match, slot).
    for p in participations:
        p.slot += 1000
        p.save(update_fields=["slot"])
    for index, p in enumerate(participations):
        p.slot = index
        p.save(update_fields=["slot"])


def _result_for(slot: int, result: dict) -> str:
    if slot in result.get("forfeited", ()):
        return Participation.Result.FORFEIT
    winner = result.get("winner")
    if winner is None:
        return Participation.Result.DRAW
    return Participation.Result.WIN if winner == slot else Participation.Result.LOSS


@transaction.atomic
def match_finish(
    *,
    match_id: int,
    result: dict,
    stats: dict | None = None,
    replay_log: list | None = None,
    final_tick: int | None = None,
    rules_result: dict | None = None,
) -> Match:
    """running → finished, recording scores, results, the winner and the tick statistics.

    ``result`` has the shape of ``Title.result()``: ``scores`` per slot, ``winner`` slot or
    None for a draw, ``summary`` text, optionally ``forfeited`` slots. With ``replay_log``
    (the runner's input log) the match gets its replay, which keeps ``rules_result`` (what
    re-simulation must reproduce; defaults to ``result``, which staff may have decided for an
    unfinished game); human players' ratings move here, in the same transaction, so exactly
    once per finished match.
    """
    match = _locked(match_id)
    _check_transition(match, Status.FINISHED)
    scores = list(result.get("scores", []))
    winner_slot = result.get("winner")
    match.winner = None
    for participation in match.participations.select_related("player"):
        if participation.slot < len(scores):
            participation.score = int(scores[participation.slot])
        participation.result = _result_for(participation.slot, result)
        participation.connected = False
        participation.save(update_fields=["score", "result", "connected"])
        if participation.slot == winner_slot and not participation.is_bot:
            match.winner = participation.player
    match.status = Status.FINISHED
    match.ended_at = timezone.now()
    match.summary = {
        "scores": scores,
        "winner_slot": winner_slot,
        "text": result.get("summary", ""),
        # What the ratings were moved by, kept so that they can be recomputed from history.
        "ranking": list(result.get("ranking") or []),
        "duration_s": match.duration_s,
        "stats": stats or {},
    }
    match.save(update_fields=["status", "ended_at", "winner", "summary"])
    if replay_log is not None:
        Replay.objects.create(
            match=match,
            log=replay.pack_log(replay_log),
            ticks=final_tick or 0,
            inputs=sum(len(entries) for _, entries in replay_log),
            result=rules_result if rules_result is not None else result,
        )
    standings.rate_match(match, result)
    return match


@transaction.atomic
def match_abort(*, match_id: int, reason: str, stats: dict | None = None) -> Match:
    match = _locked(match_id)
    _check_transition(match, Status.ABORTED)
    reason = (reason or "").strip()
    if not reason:
        raise MatchError("an abort needs a reason", code="reason_required")
    match.status = Status.ABORTED
    match.ended_at = timezone.now()
    match.abort_reason = reason[:200]
    if stats:
        match.summary = {**match.summary, "stats": stats}
    match.save(update_fields=["status", "ended_at", "abort_reason", "summary"])
    match.participations.update(connected=False)
    return match


# --- staff control (the admin); the Redis side of each action is in realtime.ops.control ------


@transaction.atomic
def match_seat_bots(*, match_id: int, count: int) -> list[Participation]:
    """Seat ``count`` bots in the lowest free slots of a waiting match."""
    match = _locked(match_id)
    if match.status != Status.WAITING:
        raise MatchClosed(f"match {match.public_id} is {match.status}; bots join before it starts")
    taken = set(match.participations.values_list("slot", flat=True))
    free = sorted(set(range(match.max_players)) - taken)
    if not 1 <= count <= len(free):
        raise MatchError(
            f"match {match.public_id} has {len(free)} free slot(s); cannot seat {count} bot(s)",
            code="bad_bots",
        )
    return [
        Participation.objects.create(match=match, is_bot=True, slot=slot, connected=True)
        for slot in free[:count]
    ]


@transaction.atomic
def participation_kick(*, match_id: int, slot: int) -> Participation:
    """Staff remove the player in ``slot``: a waiting match frees the seat; a live one marks
    the player gone (the caller makes the runner forfeit the slot)."""
    match = _locked(match_id)
    if match.is_over:
        raise MatchClosed(f"match {match.public_id} is {match.status}")
    participation = match.participations.select_related("player").filter(slot=slot).first()
    if participation is None:
        raise NotAParticipant(f"nobody plays slot {slot} in match {match.public_id}")
    if participation.is_bot:
        raise MatchError(f"slot {slot} is played by a bot", code="bot_slot")
    if participation.left_at is not None:
        raise MatchError(f"slot {slot} has already left", code="already_left")
    if match.status == Status.WAITING:
        participation.delete()
        return participation
    participation.left_at = timezone.now()
    participation.connected = False
    participation.save(update_fields=["left_at", "connected"])
    return participation


def audit_record(
    *,
    actor,
    action: str,
    match: Match | None = None,
    reason: str = "",
    details: dict | None = None,
) -> AuditLog:
    """One line of the staff audit trail; call it in the transaction of the action it records."""
    if action not in AuditLog.Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "get_username", lambda: "system")() or "system",
        action=action,
        match=match,
        match_public_id=match.public_id if match else "",
        reason=(reason or "")[:200],
        details=details or {},
    )
