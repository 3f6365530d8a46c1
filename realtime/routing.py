"""Websocket URL routes (wrapped by the origin validator and auth stack in config/asgi.py)."""

websocket_urlpatterns: list = []
