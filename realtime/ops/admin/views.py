"""Admin views beyond the list actions: the live JSON the change page polls, kicking a
player, creating a match with bots. Permission checks here; rules in the services."""

import json

import redis
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms.fields import InvalidJSONInput
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from matches.errors import MatchError
from matches.models import Match
from matches.titles import TITLES
from realtime.ops import control, live


def _match(model_admin, request, pk: int) -> Match:
    match = model_admin.get_object(request, str(pk))
    if match is None:
        raise Http404(f"no match {pk}")
    return match


def live_json(model_admin):
    @never_cache
    def view(request, pk: int):
        match = _match(model_admin, request, pk)
        if not model_admin.has_view_permission(request, match):
            raise PermissionDenied
        try:
            state, error = live.detail(match.pk), None
        except redis.RedisError as exc:
            state, error = None, f"Redis is unreachable: {exc}"
        people = match.participations.select_related("player").order_by("slot")
        return JsonResponse({
            "match": {"id": match.pk, "public_id": match.public_id, "status": match.status,
                      "over": match.is_over, "tick_hz": match.tick_hz},
            "participants": [{"slot": p.slot, "name": p.name, "bot": p.is_bot,
                              "connected": p.connected, "left": p.left_at is not None,
                              "score": p.score} for p in people],
            "live": state,
            "error": error,
        })  # fmt: skip

    return view


class KickForm(forms.Form):
    slot = forms.IntegerField(min_value=0)
    reason = forms.CharField(max_length=200, required=False)


def kick(model_admin):
    def view(request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        match = _match(model_admin, request, pk)
        if not model_admin.has_control_permission(request, match):
            raise PermissionDenied
        form = KickForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Refused — {form.errors.as_text()}")
        else:
            slot, reason = form.cleaned_data["slot"], form.cleaned_data["reason"]
            try:
                gone = control.kick(match_id=match.pk, slot=slot, actor=request.user,
                                    reason=reason)  # fmt: skip
                messages.success(request, f"Kicked {gone.name} (slot {slot}).")
            except MatchError as exc:
                messages.error(request, f"Refused — {exc.reason}")
        return redirect("admin:matches_match_change", match.pk)

    return view


class SettingsField(forms.JSONField):
    def prepare_value(self, value):
        # ASCII-escaped: a lone surrogate ("\udfff" in the posted JSON) has no UTF-8, and the
        # page that shows the form again failed to encode (found by tests/fuzz: a 500).
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, cls=self.encoder)


class CreateWithBotsForm(forms.Form):
    # A callable: the titles are read from ARCADE_TITLES when the form is built, not at import.
    title = forms.ChoiceField(choices=lambda: [(name, t.label) for name, t in TITLES.items()])
    settings = SettingsField(
        required=False, initial=dict, help_text='The title\'s settings, e.g. {"max_players": 4}.'
    )
    bots = forms.IntegerField(min_value=1, max_value=64, initial=2)
    start = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Start at once (bots take every seat); otherwise humans may join the free "
        "seats from the lobby and bots take those still free when it begins.",
    )

    def clean_settings(self):
        value = self.cleaned_data["settings"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("settings must be a JSON object")
        return value


def create_with_bots(model_admin):
    def view(request):
        if not model_admin.has_control_permission(request):
            raise PermissionDenied
        form = CreateWithBotsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                match = control.create_with_bots(
                    actor=request.user, title=data["title"], settings=data["settings"],
                    bots=data["bots"], start=data["start"],
                )  # fmt: skip
            except MatchError as exc:
                form.add_error(None, exc.reason)
            else:
                messages.success(request, f"Created {match} ({match.get_status_display()}).")
                return redirect("admin:matches_match_change", match.pk)
        context = {
            **model_admin.admin_site.each_context(request),
            "title": "Create a match with bots",
            "form": form,
            "opts": model_admin.model._meta,
        }
        return TemplateResponse(request, "admin/matches/match/create_with_bots.html", context)

    return view
