from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"
    verbose_name = "Territoires"

    def ready(self):
        # Connects the signals that recompute every commune's distance to help.
        from territories import coverage  # noqa: F401
