import logging

from django.apps import AppConfig
from django.db import DatabaseError
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


def sync_schedules_after_migrate(sender: AppConfig, using: str = "default", **kwargs) -> None:
    """After ``migrate`` (and test database setup) the beat schedules exist, with the current settings."""
    from apps.configuration.schedules import sync_periodic_tasks

    if using != "default":
        return
    try:
        sync_periodic_tasks()
    except DatabaseError as exc:  # e.g. migrate ran for a subset of apps: beat tables not there yet
        logger.warning("beat schedules not synced after migrate: %s", exc)


class ConfigurationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.configuration"
    label = "configuration"

    def ready(self) -> None:
        from apps.catalog import conf as catalog_conf
        from apps.configuration.selectors import catalog_setting

        catalog_conf.use_settings_source(catalog_setting)
        post_migrate.connect(sync_schedules_after_migrate, sender=self, dispatch_uid="configuration-sync-schedules")
