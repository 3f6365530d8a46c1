"""Probes for load balancers, orchestrators and Prometheus: /healthz, /readyz, /metrics,
/metrics/process.

``ProbeMiddleware`` (first in MIDDLEWARE) answers them before the host check and the HTTPS
redirect: a probe comes by IP over plain HTTP (Docker, a load balancer), and would get a 400
or a 301 from those instead of an answer. The same views are in the URLconf too.
"""

from functools import cache

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from redis.backoff import NoBackoff
from redis.retry import Retry

from realtime import redisconn
from realtime.engine import heartbeat
from realtime.ops import metrics


def healthz(request) -> JsonResponse:
    """The process is alive and serving; checks nothing else (a liveness probe)."""
    return JsonResponse({"status": "ok"})


@cache
def _redis(url: str) -> redis.Redis:  # keyed by the URL for tests that change it
    # Short timeouts and no retries: a probe must answer within the prober's timeout, and a
    # Redis that needs retries is worth reporting.
    return redisconn.sync_client(
        "probe", socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
    )


def readiness() -> tuple[dict[str, str], list[str]]:
    """What is not ready, by name (empty when all is), and the live tick workers."""
    failed = {}
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver's error means the same: not ready
        failed["database"] = f"{type(exc).__name__}: {exc}"
    r = _redis(settings.REDIS_URL)
    try:
        r.ping()
        workers = heartbeat.alive(r)
    except redis.RedisError as exc:
        failed["redis"] = f"{type(exc).__name__}: {exc}"
        failed["tick_workers"] = "unknown: Redis is unreachable"
        return failed, []
    if not workers:
        failed["tick_workers"] = (
            f"no tick worker heartbeat in the last {heartbeat.TTL_S:.0f} s: no match can run"
        )
    return failed, workers


def readyz(request) -> JsonResponse:
    """Ready to serve games: the database, Redis and at least one tick worker (503 if not)."""
    failed, workers = readiness()
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok", "tick_workers": workers})


def metrics_view(request) -> HttpResponse:
    """Prometheus text format 0.0.4 (what every Prometheus reads); every figure of every process
    is read from the database and Redis now."""
    body = generate_latest(metrics.registry(readiness))
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


def process_metrics_view(request) -> HttpResponse:
    """This Daphne's own figures: its HTTP requests and its Python process."""
    body = generate_latest(metrics.process_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)


PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view,
          "/metrics/process": process_metrics_view}  # fmt: skip


class ProbeMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
