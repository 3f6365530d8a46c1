"""Routes of the lobby API (realtime.lobby.api), included under /api/ by config/urls.py."""

from django.urls import path

from realtime.lobby import accounts, api, rematch
from realtime.lobby import history as history_api

urlpatterns = [
    path("openapi.json", api.openapi, name="api-openapi"),
    path("csrf", api.csrf, name="api-csrf"),
    path("account/signup", accounts.signup, name="api-signup"),
    path("account/login", accounts.login, name="api-login"),
    path("account/logout", accounts.logout, name="api-logout"),
    path("account/password", accounts.password, name="api-password"),
    path("titles", api.titles, name="api-titles"),
    path("me", api.me, name="api-me"),
    path("matches", api.matches, name="api-matches"),
    path("matches/<str:public_id>", api.match_detail, name="api-match"),
    path("matches/<str:public_id>/join", api.match_join, name="api-match-join"),
    path("matches/<str:public_id>/start", api.match_start, name="api-match-start"),
    path("matches/<str:public_id>/leave", api.match_leave, name="api-match-leave"),
    path("matches/<str:public_id>/rematch", rematch.offer, name="api-rematch"),
    path("matches/<str:public_id>/replay", history_api.replay_frames, name="api-replay"),
    path("leaderboard/<str:title>", history_api.leaderboard, name="api-leaderboard"),
    path("players/<int:player_id>", history_api.player, name="api-player"),
]
