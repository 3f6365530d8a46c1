"""Reads: the lobby, a match by its public id, results, what the supervisor must look at."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    When,
)

from matches import sql
from matches.errors import MatchNotFound, ReplayOutdated
from matches.models import Match, Participation, Player, Rating, Replay, seat_name
from matches.titles import TITLES

Status = Match.Status


def _with_people(qs: QuerySet[Match]) -> QuerySet[Match]:
    return qs.annotate(players_count=Count("participations")).prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("player"))
    )


def _current_rules() -> Q:
    """Matches played under the rules this server runs: only those replay (replay_check)."""
    current = Q(pk__in=[])
    for name, title in TITLES.items():
        current |= Q(title=name, rules_version=title.version)
    return current


def _with_replay_flag(qs: QuerySet[Match]) -> QuerySet[Match]:
    """``has_replay`` on each match, in the same query (lists that link to replays)."""
    recorded = Exists(Replay.objects.filter(match=OuterRef("pk")))
    return qs.annotate(has_replay=Case(When(_current_rules() & recorded, then=True),
                                       default=False, output_field=BooleanField()))  # fmt: skip


def has_replay(match: Match) -> bool:
    """Whether the match can be watched again (recorded, under the rules this server runs):
    annotated by the list selectors, else asked."""
    known = getattr(match, "has_replay", None)
    if known is not None:
        return known
    return (match.status == Status.FINISHED and _rules_current(match)
            and Replay.objects.filter(match=match).exists())  # fmt: skip


def _rules_current(match: Match) -> bool:
    """Whether this server runs the version of the title's rules the match was played under."""
    title = TITLES.get(match.title)
    return title is not None and title.version == match.rules_version


def match_get(*, public_id: str) -> Match:
    if "\x00" in public_id:  # no id holds one, and PostgreSQL raises on it (a page's 500)
        raise MatchNotFound(f"no match {public_id!r}")
    try:
        return Match.objects.get(public_id=public_id)
    except Match.DoesNotExist:
        raise MatchNotFound(f"no match {public_id!r}") from None


def match_status(*, match_id: int) -> str | None:
    found = sql.rows(sql.match_status(), [match_id])  # each socket's presence asks (sql.py)
    return found[0][0] if found else None


@dataclass(frozen=True, slots=True)
class SeatRow:
    """One seat as a match socket's handshake reads it (``match_seats``)."""

    slot: int
    is_bot: bool
    connected: bool
    left: bool
    player_id: int | None
    player_name: str | None
    user_id: int | None
    user_active: bool | None
    user_password: str | None

    @property
    def name(self) -> str:
        return seat_name(slot=self.slot, is_bot=self.is_bot, display_name=self.player_name)

    def player(self) -> Player | None:
        """The seat's player with its account (the fields a session check reads), unsaved."""
        if self.player_id is None:
            return None
        player = Player(pk=self.player_id, display_name=self.player_name, user_id=self.user_id)
        if self.user_id is not None:
            player.user = get_user_model()(pk=self.user_id, is_active=self.user_active,
                                           password=self.user_password)  # fmt: skip
        return player


@dataclass(frozen=True, slots=True)
class MatchSeats:
    """A match and its seats in slot order, as a match socket's handshake reads them."""

    match_id: int
    public_id: str
    title: str
    status: str
    rules_version: int
    settings: dict
    tick_hz: int
    starts_at: datetime | None
    seats: list[SeatRow]

    @property
    def is_over(self) -> bool:
        return self.status in Match.OVER_STATUSES


def _seat_row(slot, is_bot, connected, left_at, player_id, name, user_id, active, password):
    """A seat from ``match_seats``' columns (SQLite gives its booleans as 0 and 1)."""
    return SeatRow(
        slot=slot, is_bot=bool(is_bot), connected=bool(connected), left=left_at is not None,
        player_id=player_id, player_name=name, user_id=user_id,
        user_active=None if active is None else bool(active), user_password=password,
    )  # fmt: skip


def match_seats(*, public_id: str) -> MatchSeats:
    """The match and its seats in one statement (every match socket's handshake reads it:
    matches/sql.py says why not through the ORM); raises ``MatchNotFound``."""
    if "\x00" in public_id:
        raise MatchNotFound(f"no match {public_id!r}")
    found = sql.rows(sql.match_seats(), [public_id])
    if not found:
        raise MatchNotFound(f"no match {public_id!r}")
    first = found[0]
    seats = [_seat_row(*row[8:]) for row in found if row[8] is not None]
    return MatchSeats(
        match_id=first[0], public_id=first[1], title=first[2], status=first[3],
        rules_version=first[4], settings=sql.json_value(Match, "settings", first[5]),
        tick_hz=first[6], starts_at=sql.aware(first[7]), seats=seats,
    )  # fmt: skip


def lobby_matches(*, title: str | None = None, limit: int = 50) -> list[Match]:
    """Open and live matches, newest first: what a lobby lists."""
    qs = Match.objects.filter(status__in=[Status.WAITING, Status.COUNTDOWN, Status.RUNNING])
    if title:
        qs = qs.filter(title=title)
    return list(_with_people(qs).order_by("-created_at")[:limit])


def recent_results(*, title: str | None = None, limit: int = 20) -> list[Match]:
    qs = Match.objects.filter(status=Status.FINISHED)
    if title:
        qs = qs.filter(title=title)
    qs = _with_replay_flag(_with_people(qs))
    return list(qs.select_related("winner").order_by("-ended_at")[:limit])


def player_matches(*, player: Player, limit: int = 50) -> list[Match]:
    qs = Match.objects.filter(participations__player=player)
    return list(_with_replay_flag(_with_people(qs)).order_by("-created_at")[:limit])


def player_has_finished(*, player: Player) -> bool:
    return Match.objects.filter(participations__player=player, status=Status.FINISHED).exists()


def participation_for(*, match: Match, player: Player | None) -> Participation | None:
    if player is None:
        return None
    return match.participations.filter(player=player).first()


def running_match_ids() -> list[int]:
    return list(Match.objects.filter(status=Status.RUNNING).values_list("pk", flat=True))


def countdowns_elapsed(*, now: datetime) -> list[int]:
    return list(
        Match.objects.filter(status=Status.COUNTDOWN, starts_at__lte=now).values_list(
            "pk", flat=True
        )
    )


def waiting_since(*, before: datetime) -> list[int]:
    return list(
        Match.objects.filter(status=Status.WAITING, created_at__lt=before).values_list(
            "pk", flat=True
        )
    )


def leaderboard(*, title: str, limit: int = 50) -> list[Rating]:
    return list(
        Rating.objects.filter(title=title)
        .select_related("player")
        .order_by("-rating", "id")[:limit]
    )


def player_get(*, player_id: int) -> Player:
    try:
        return Player.objects.get(pk=player_id)
    except Player.DoesNotExist:
        raise MatchNotFound(f"no player {player_id}", code="unknown_player") from None


def replay_get(*, public_id: str) -> Replay:
    """A match's replay, if this server's rules of its title replay it (``replay_check``)."""
    match = match_get(public_id=public_id)
    try:
        kept = Replay.objects.select_related("match").get(match=match)
    except Replay.DoesNotExist:
        raise MatchNotFound(
            f"match {public_id} has no replay (only matches finished on the engine have one)",
            code="no_replay",
        ) from None
    replay_check(match=match)
    return kept


def replay_check(*, match: Match) -> None:
    """Raise ReplayOutdated if the match was played under another version of its title's
    rules than this server runs (or a title it no longer has)."""
    if not _rules_current(match):
        title = TITLES.get(match.title)
        now = f"v{title.version}" if title is not None else "no such title"
        raise ReplayOutdated(
            f"match {match.public_id} was played under {match.title} rules "
            f"v{match.rules_version}; this server has {now}, which would replay another match"
        )
