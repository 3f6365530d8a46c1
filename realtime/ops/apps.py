from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Staff and operators: the admin, live control, health probes and metrics."""

    name = "realtime.ops"
    label = "ops"
    verbose_name = "Operations"
