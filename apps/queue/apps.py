from django.apps import AppConfig
from django.db.models.signals import post_migrate


class QueueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.queue"
    label = "download_queue"
    verbose_name = "Download queue"

    def ready(self) -> None:
        from apps.queue.beat import install_periodic_tasks

        post_migrate.connect(install_periodic_tasks, sender=self, dispatch_uid="queue-periodic-tasks")
