"""The staff audit trail: written by realtime.ops.control, read-only for everyone here."""

from django.contrib import admin

from matches.models import AuditLog


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A trail that staff can prune is no trail.
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "match_public_id", "reason")
    list_filter = ("action",)
    search_fields = ("actor_name", "match_public_id", "reason")
    date_hierarchy = "at"
    fields = ("at", "actor", "actor_name", "action", "match", "match_public_id", "reason",
              "details")  # fmt: skip
    readonly_fields = fields


class AuditLogInline(ReadOnlyMixin, admin.TabularInline):
    model = AuditLog
    extra = 0
    fields = ("at", "actor_name", "action", "reason", "details")
    readonly_fields = fields
    verbose_name_plural = "audit log (staff actions on this match)"
