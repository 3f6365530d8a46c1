from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path

from config import health
from frontend import views as frontend_views


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", frontend_views.home, name="home"),
    path("api/", include("matches.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]
