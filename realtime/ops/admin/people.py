"""Players, their accounts and participations: plain admin over the services' records."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from matches.models import Participation, Player


class PlayerInline(admin.StackedInline):
    """The player an account keeps: its nickname, history and ratings hang off it."""

    model = Player
    fk_name = "user"
    fields = ("display_name", "created_at", "last_seen_at")
    readonly_fields = ("created_at", "last_seen_at")
    can_delete = False
    extra = 0


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class AccountAdmin(UserAdmin):
    inlines = [PlayerInline]
    list_display = ("username", "player", "is_staff", "is_active", "date_joined", "last_login")
    search_fields = ("username", "player__display_name")


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ("display_name", "user", "created_at", "last_seen_at")
    list_filter = (("user", admin.EmptyFieldListFilter),)
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
