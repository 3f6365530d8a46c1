"""Players and participations: plain admin over the services' records."""

from django.contrib import admin

from matches.models import Participation, Player


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
