from django.apps import AppConfig
from django.db.models.signals import post_migrate


class QueueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.queue"
    label = "download_queue"
    verbose_name = "Download queue"

    def ready(self) -> None:
        from apps.configuration.signals import settings_changed
        from apps.queue.beat import install_periodic_tasks
        from apps.queue.services import dispatch_when_concurrency_changes

        post_migrate.connect(install_periodic_tasks, sender=self, dispatch_uid="queue-periodic-tasks")
        settings_changed.connect(dispatch_when_concurrency_changes, dispatch_uid="queue-concurrency-changed")
