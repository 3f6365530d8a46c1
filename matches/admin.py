"""Django admin for players and matches. Actions call the services; rules live there."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from matches import services
from matches.errors import MatchError
from matches.models import Match, Participation, Player


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    can_delete = False
    fields = ("slot", "player", "is_bot", "score", "result", "connected", "joined_at", "left_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AbortForm(forms.Form):
    reason = forms.CharField(max_length=200, initial="aborted by staff")


def _apply(modeladmin, request, queryset, verb: str, operation) -> None:
    done, refused = 0, []
    for match in queryset:
        try:
            operation(match)
            done += 1
        except MatchError as exc:
            refused.append(f"{match.public_id}: {exc.reason}")
    if done:
        modeladmin.message_user(request, f"{verb} {done} match(es).", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, f"Refused — {line}", messages.ERROR)


@admin.action(description="Finish with current scores", permissions=["change"])
def finish_matches(modeladmin, request, queryset):
    def finish(match: Match) -> None:
        scores = [0] * match.max_players
        for p in match.participations.all():
            if p.slot < len(scores):
                scores[p.slot] = p.score
        best = max(scores, default=0)
        leaders = [slot for slot, score in enumerate(scores) if score == best]
        winner = leaders[0] if len(leaders) == 1 else None
        services.match_finish(
            match_id=match.pk,
            result={"scores": scores, "winner": winner, "summary": "ended by staff"},
        )

    _apply(modeladmin, request, queryset, "Finished", finish)


@admin.action(description="Abort (asks for a reason)", permissions=["change"])
def abort_matches(modeladmin, request, queryset):
    form = AbortForm(request.POST if "reason" in request.POST else None)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        _apply(
            modeladmin,
            request,
            queryset,
            "Aborted",
            lambda m: services.match_abort(match_id=m.pk, reason=reason),
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Abort matches",
        "matches": queryset,
        "form": form,
        "action": "abort_matches",
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/matches/match/abort.html", context)


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "title",
        "status",
        "players",
        "max_players",
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
    inlines = [ParticipationInline]
    actions = [finish_matches, abort_matches]
    date_hierarchy = "created_at"

    @admin.display(description="players")
    def players(self, obj: Match) -> int:
        return obj.participations.count()

    def has_add_permission(self, request) -> bool:
        # Matches are created through match_create so settings are validated by the title.
        return False


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "created_at", "last_seen_at")
    search_fields = ("display_name", "user__username")
    readonly_fields = ("created_at", "last_seen_at")
    raw_id_fields = ("user",)


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ("match", "slot", "player", "is_bot", "score", "result", "connected")
    list_filter = ("result", "is_bot", "connected", "match__title", "match__status")
    search_fields = ("match__public_id", "player__display_name")
    readonly_fields = ("joined_at", "left_at")
    raw_id_fields = ("match", "player")
