"""Websocket URL routes (wrapped by the origin validator and session stack in config/asgi.py)."""

from django.urls import re_path

from realtime.gateway.consumer import MatchConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/matches/(?P<public_id>[A-Za-z0-9_-]{1,16})/$", MatchConsumer.as_asgi()),
]
