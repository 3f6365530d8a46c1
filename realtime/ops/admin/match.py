"""The match admin: list with live figures from Redis, change page with a live view."""

import logging

import redis
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.urls import path

from matches.models import Match, Participation
from realtime.ops import live
from realtime.ops.admin import actions, views
from realtime.ops.admin.audit import AuditLogInline

log = logging.getLogger(__name__)

CONTROL_PERMISSION = "matches.control_match"


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    can_delete = False
    fields = ("slot", "player", "is_bot", "score", "result", "connected", "joined_at", "left_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LiveChangeList(ChangeList):
    """Reads the live figures of the page's running matches in one Redis pipeline."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            # ?created_at__year=10**30 (found by tests/fuzz): Django turns only ValueError
            # into the list's "bad lookup" redirect; this was a 500.
            raise IncorrectLookupParameters(exc) from None

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)  # evaluates (and caches) the page's queryset
        running = [m.pk for m in rows if m.status == Match.Status.RUNNING]
        try:
            figures = live.figures(running)
        except redis.RedisError as exc:
            # The list still serves its purpose without Redis; the columns show a dash.
            log.warning("admin: live figures unavailable: %s", exc)
            figures = {}
        for match in rows:
            match.live = figures.get(match.pk)


def _live_column(field: str, description: str, fmt: str = "{}"):
    def column(self, obj: Match):
        figures = getattr(obj, "live", None)
        value = getattr(figures, field, None) if figures else None
        return "—" if value is None else fmt.format(value)

    column.short_description = description
    return column


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "title",
        "status",
        "players",
        "max_players",
        "live_tick",
        "live_connected",
        "live_rate",
        "live_jitter",
        "live_overruns",
        "created_at",
        "started_at",
        "ended_at",
        "winner",
    )
    list_filter = ("status", "title", "fill_with_bots")
    search_fields = ("public_id", "participations__player__display_name", "abort_reason")
    readonly_fields = (
        "public_id",
        "title",
        "rules_version",
        "status",
        "tick_hz",
        "seed",
        "created_by",
        "created_at",
        "starts_at",
        "started_at",
        "ended_at",
        "winner",
        "summary",
        "abort_reason",
    )
    inlines = [ParticipationInline, AuditLogInline]
    actions = [actions.start_now, actions.finish_matches, actions.abort_matches]
    date_hierarchy = "created_at"

    live_tick = _live_column("tick", "tick")
    live_connected = _live_column("connected", "sockets")
    live_rate = _live_column("tick_rate", "ticks/s", "{:.1f}")
    live_jitter = _live_column("jitter_p99_ms", "p99 jitter", "{:.1f} ms")
    live_overruns = _live_column("overruns", "overruns")

    @admin.display(description="players")
    def players(self, obj: Match) -> int:
        return obj.participations.count()

    def get_changelist(self, request, **kwargs):
        return LiveChangeList

    def has_add_permission(self, request) -> bool:
        # Matches are created through match_create so settings are validated by the title
        # (staff with the control permission have "create a match with bots").
        return False

    def has_control_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(CONTROL_PERMISSION)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("create-with-bots/", wrap(views.create_with_bots(self)),
                 name="matches_match_create_with_bots"),
            path("<int:pk>/live.json", wrap(views.live_json(self)), name="matches_match_live"),
            path("<int:pk>/kick/", wrap(views.kick(self)), name="matches_match_kick"),
            *super().get_urls(),
        ]  # fmt: skip

    def changelist_view(self, request, extra_context=None):
        extra = {"can_control": self.has_control_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_control": self.has_control_permission(request),
                 "sparklines": live.SPARKLINES, **(extra_context or {})}  # fmt: skip
        return super().change_view(request, object_id, form_url, extra_context=extra)
