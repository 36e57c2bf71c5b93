from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from console.health import ensure_heartbeat_schedule, record_worker_heartbeat

        post_migrate.connect(ensure_heartbeat_schedule, sender=self, dispatch_uid="console-worker-heartbeat")
        post_spawn.connect(record_worker_heartbeat, dispatch_uid="console-worker-heartbeat-spawn")
