from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from provisioning.retention import create_schedule_after_migrate
        from provisioning.watchdog import ensure_watchdog_schedule

        post_migrate.connect(create_schedule_after_migrate, sender=self, dispatch_uid="provisioning-log-retention")
        post_migrate.connect(ensure_watchdog_schedule, sender=self, dispatch_uid="provisioning-watchdog")
