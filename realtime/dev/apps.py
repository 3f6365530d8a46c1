from django.apps import AppConfig


class DevConfig(AppConfig):
    """Developer tooling: the private Redis, the load tool, the bench and runstack commands.

    Their extra packages are in requirements-dev.txt; the image does not install them.
    """

    name = "realtime.dev"
    label = "dev"
    verbose_name = "Developer tooling"
