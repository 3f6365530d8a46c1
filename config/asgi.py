"""ASGI entry point: Django over HTTP, the realtime consumers over websockets (Daphne)."""

import gc
import os
import socket

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before the consumers (and the models they import) load.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from realtime import figures  # noqa: E402
from realtime.gateway import daphne  # noqa: E402
from realtime.gateway.routing import websocket_urlpatterns  # noqa: E402

daphne.install()  # eager socket writes, when the versions are the known ones
# The `process` label of this server's figures in /metrics (realtime/gateway/stats.py).
figures.name_process(f"daphne@{socket.gethostname()}:{os.getpid()}")

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Daphne lets a null Origin through; the validator refuses foreign and missing origins.
        # The session alone says who a socket is (matches/identity.py): no auth middleware,
        # whose user lookup cost every socket one more trip to the database thread (a
        # thousand of them after a restart: docs/operations.md, "Reconnect stampede").
        "websocket": AllowedHostsOriginValidator(
            SessionMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Daphne's start-up heap, out of the collector's sight: a full collection of it paused every
# socket of the process (see config/celery.py, where the same pause hit the tick worker).
gc.freeze()
