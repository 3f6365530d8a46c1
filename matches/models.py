"""Persistent records of players and matches.

The database holds what must outlive a match: who played, the settings, the outcome. The
state of a running match lives in Redis (``realtime.store``) and reaches these rows only on
status transitions, never per tick.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from matches.titles import TITLES


def new_public_id() -> str:
    # 10 characters of a URL-safe alphabet (~60 bits): unguessable, short enough for a URL.
    # Never a leading "-" or "_": it would read as an option on a command line
    # (`manage.py verify_replay <id>`) and looks like a typo in a URL.
    while True:
        candidate = secrets.token_urlsafe(8)[:10]
        if candidate[0].isalnum():
            return candidate


def new_seed() -> int:
    return secrets.randbits(63)


class Player(models.Model):
    """Someone who plays: a browser guest known by its session, or a signed-in user."""

    display_name = models.CharField(max_length=24)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="player",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_name", "id"]

    def __str__(self) -> str:
        return self.display_name


class Match(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for players"
        COUNTDOWN = "countdown", "Countdown"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        ABORTED = "aborted", "Aborted"

    LIVE_STATUSES = (Status.COUNTDOWN, Status.RUNNING)
    OVER_STATUSES = (Status.FINISHED, Status.ABORTED)

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    # Validated against the title registry by match_create; not DB choices, so that adding a
    # title needs no migration.
    title = models.CharField(max_length=16, db_index=True)
    rules_version = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    settings = models.JSONField(default=dict, blank=True)
    tick_hz = models.PositiveSmallIntegerField()
    max_players = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField(default=new_seed)
    fill_with_bots = models.BooleanField(
        default=False, help_text="Bots play every slot no human took when the match begins."
    )
    created_by = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="End of the countdown.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches_won"
    )
    summary = models.JSONField(default=dict, blank=True)
    abort_reason = models.CharField(max_length=200, blank=True)
    rematch = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rematch_of",
        help_text="The new match its players agreed to play after this one.",
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "matches"
        indexes = [models.Index(fields=["status", "created_at"])]
        # Acting on a live match (start, end, abort, kick, create with bots) is more than
        # editing a row: it reaches the tick workers. Staff get it explicitly, not with "change".
        permissions = [("control_match", "Can control live matches (start, end, abort, kick)")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_players__gte=1) & Q(max_players__lte=64), name="match_max_players"
            ),
            models.CheckConstraint(
                condition=Q(tick_hz__gte=1) & Q(tick_hz__lte=120), name="match_tick_hz"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title_label} {self.public_id}"

    @property
    def title_label(self) -> str:
        title = TITLES.get(self.title)
        return title.label if title else self.title

    @property
    def is_over(self) -> bool:
        return self.status in self.OVER_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


def seat_name(*, slot: int, is_bot: bool, display_name: str | None) -> str:
    """What a seat is called: its player's name, or a bot's by its slot."""
    return f"Bot {slot + 1}" if is_bot else display_name


class Participation(models.Model):
    class Result(models.TextChoices):
        NONE = "", "—"
        WIN = "win", "Win"
        LOSS = "loss", "Loss"
        DRAW = "draw", "Draw"
        FORFEIT = "forfeit", "Forfeit"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="participations")
    player = models.ForeignKey(
        Player, null=True, blank=True, on_delete=models.PROTECT, related_name="participations"
    )
    is_bot = models.BooleanField(default=False)
    slot = models.PositiveSmallIntegerField()
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)
    score = models.IntegerField(default=0)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True, default="")
    connected = models.BooleanField(default=False)

    class Rematch(models.TextChoices):
        NONE = "", "Not asked"
        YES = "yes", "Yes"
        NO = "no", "No"

    rematch = models.CharField(max_length=3, choices=Rematch.choices, blank=True, default="")

    class Meta:
        ordering = ["match", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["match", "slot"], name="one_participant_per_slot"),
            models.UniqueConstraint(
                fields=["match", "player"],
                condition=Q(player__isnull=False),
                name="one_slot_per_player",
            ),
            models.CheckConstraint(
                condition=Q(is_bot=True, player__isnull=True)
                | Q(is_bot=False, player__isnull=False),
                name="bot_xor_player",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} in slot {self.slot}"

    @property
    def name(self) -> str:
        display_name = None if self.is_bot else self.player.display_name
        return seat_name(slot=self.slot, is_bot=self.is_bot, display_name=display_name)


class Replay(models.Model):
    """What re-simulates a finished match: the input log, next to the match's seed, settings
    and rules version. Rules are deterministic, so seed + inputs give every state back."""

    match = models.OneToOneField(Match, on_delete=models.CASCADE, related_name="replay")
    # zlib-compressed JSON: [[tick, [["i", slot, input(, late)] | ["f", slot], ...]], ...]
    log = models.BinaryField()
    ticks = models.PositiveIntegerField(help_text="Ticks the match ran.")
    inputs = models.PositiveIntegerField(help_text="Inputs and forfeits in the log.")
    result = models.JSONField(help_text="The result the live match recorded.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"replay of {self.match}"


class Rating(models.Model):
    """A player's rating in one title, moved once per finished match between humans, by the
    title's system (matches/ratings.py): Elo keeps ``rating`` alone; OpenSkill keeps ``mu``
    and ``sigma`` and ``rating`` is its conservative estimate, what the leaderboard ranks."""

    INITIAL = 1200.0

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="ratings")
    title = models.CharField(max_length=16, db_index=True)
    system = models.CharField(max_length=12, default="elo")
    rating = models.FloatField(default=INITIAL)
    mu = models.FloatField(null=True, blank=True, help_text="OpenSkill: the skill estimate.")
    sigma = models.FloatField(null=True, blank=True, help_text="OpenSkill: its uncertainty.")
    games = models.PositiveIntegerField(default=0)
    wins = models.PositiveIntegerField(default=0)
    losses = models.PositiveIntegerField(default=0)
    draws = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "-rating"]
        constraints = [
            models.UniqueConstraint(fields=["player", "title"], name="one_rating_per_title")
        ]

    def __str__(self) -> str:
        return f"{self.player} {self.title} {self.rating:.0f}"


class AuditLog(models.Model):
    """One staff action on a match: who did what, when, and why. Written, never edited."""

    class Action(models.TextChoices):
        START = "start", "Start now"
        END = "end", "End with current scores"
        ABORT = "abort", "Abort"
        KICK = "kick", "Kick a player"
        CREATE = "create", "Create with bots"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied, so the entry still names the person after the account is deleted.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=8, choices=Action.choices)
    match = models.ForeignKey(
        Match, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    # Copied for the same reason: the trail outlives a deleted match.
    match_public_id = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.match_public_id}"
