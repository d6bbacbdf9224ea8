from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Médiation numérique"

    def ready(self):
        from mediation import (  # noqa: F401
            information_dates,
            lockout,
            markers,
            privacy,
            tombstones,
            versioning,
        )
        from mediation.context_processors import forget_demo_flag
        from mediation.models import Structure

        post_save.connect(forget_demo_flag, sender=Structure, dispatch_uid="demo-flag-save")
        post_delete.connect(forget_demo_flag, sender=Structure, dispatch_uid="demo-flag-delete")
