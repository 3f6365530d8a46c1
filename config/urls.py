from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path

from frontend import history_views
from frontend import views as frontend_views
from realtime.lobby import quickplay as quickplay_api
from realtime.ops import health


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", frontend_views.home, name="home"),
    path("account/", frontend_views.account_page, name="account"),
    path("m/<str:public_id>/", frontend_views.match_page, name="match"),
    path("m/<str:public_id>/replay/", history_views.replay_page, name="replay"),
    path("players/<int:player_id>/", history_views.player_page, name="player"),
    path("leaderboard/<str:title>/", history_views.leaderboard_page, name="leaderboard"),
    path("lobby/results", frontend_views.results_fragment, name="lobby-results"),
    path("api/quickplay", quickplay_api.quickplay, name="api-quickplay"),
    path("api/quickplay/cancel", quickplay_api.quickplay_cancel, name="api-quickplay-cancel"),
    path("api/", include("realtime.lobby.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("metrics/process", health.process_metrics_view, name="metrics-process"),
    path("admin/", admin.site.urls),
]

# JSON under /api/, Django's pages elsewhere (realtime.lobby.api).
handler404 = "realtime.lobby.api.not_found"
handler500 = "realtime.lobby.api.server_error"
