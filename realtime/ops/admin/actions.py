"""Match list actions for staff with ``matches.control_match``; each calls realtime.ops.control."""

import redis
from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from matches.errors import MatchError
from realtime.ops import control


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
        except redis.RedisError as exc:
            refused.append(f"{match.public_id}: Redis is unreachable ({exc})")
    if done:
        modeladmin.message_user(request, f"{verb} {done} match(es).", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, f"Refused — {line}", messages.ERROR)


@admin.action(description="Start now (skip the countdown)", permissions=["control"])
def start_now(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, "Started", lambda m: control.start_now(
        match_id=m.pk, actor=request.user))  # fmt: skip


@admin.action(description="End now with the current scores", permissions=["control"])
def finish_matches(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, "Finished", lambda m: control.end(
        match_id=m.pk, actor=request.user))  # fmt: skip


@admin.action(description="Abort (asks for a reason)", permissions=["control"])
def abort_matches(modeladmin, request, queryset):
    form = AbortForm(request.POST if "reason" in request.POST else None)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        _apply(modeladmin, request, queryset, "Aborted", lambda m: control.abort(
            match_id=m.pk, actor=request.user, reason=reason))  # fmt: skip
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
