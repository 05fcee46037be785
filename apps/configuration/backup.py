"""Backup and restore of settings, library records and the queue as one JSON file.

The file carries a format name, ``schema_version`` and the migrations applied
for each app when it was written. A restore refuses a file written by a newer
Aniworld (higher schema version, or migrations this installation does not have)
and replaces the current records in one transaction: all of it or nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from apps.configuration import defaults, selectors

BACKUP_FORMAT = "aniworld-backup"
BACKUP_SCHEMA_VERSION = 1
BACKUP_APP_LABELS = ("configuration", "library", "download_queue")


class BackupRefused(Exception):
    """The file cannot be restored here; the message says why and what to do."""


def backup_models() -> list[type[models.Model]]:
    """Concrete models of the backed-up apps that exist in this installation, parents before children."""
    app_list = []
    for label in BACKUP_APP_LABELS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        found = [model for model in config.get_models() if not model._meta.proxy and model._meta.managed]
        if found:
            app_list.append((config, found))
    return serializers.sort_dependencies(app_list)


def _migration_state() -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """(applied migrations per backed-up app, migrations on disk per backed-up app)."""
    loader = MigrationLoader(connection)
    applied: dict[str, list[str]] = {}
    on_disk: dict[str, set[str]] = {}
    for label in BACKUP_APP_LABELS:
        applied[label] = sorted(name for app, name in loader.applied_migrations if app == label)
        on_disk[label] = {name for app, name in loader.disk_migrations if app == label}
    return applied, on_disk


def create_backup() -> dict[str, Any]:
    ordered = backup_models()
    with transaction.atomic():  # one consistent snapshot of every table
        objects = json.loads(
            serializers.serialize(
                "json",
                (obj for model in ordered for obj in model._base_manager.order_by("pk")),
            )
        )
    applied, _on_disk = _migration_state()
    return {
        "format": BACKUP_FORMAT,
        "schema_version": BACKUP_SCHEMA_VERSION,
        "created_at": timezone.now().isoformat(),
        "models": [model._meta.label_lower for model in ordered],
        "migrations": {label: names for label, names in applied.items() if names},
        "objects": objects,
    }


def write_backup(path: str | Path) -> dict[str, int]:
    """Write the backup file atomically; returns the number of records per model."""
    data = create_backup()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, cls=DjangoJSONEncoder, indent=1, ensure_ascii=False)
        os.chmod(temporary, 0o600)  # it holds API keys and notification tokens
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return _count(data["objects"])


def _count(objects: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj["model"]] = counts.get(obj["model"], 0) + 1
    return counts


def read_backup(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupRefused(f"{path} is not a readable Aniworld backup: {exc}.") from None
    return data


def check_compatible(data: Any) -> None:
    """Raise BackupRefused unless this installation can restore ``data``."""
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise BackupRefused("This is not an Aniworld backup file (no 'aniworld-backup' format marker).")
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise BackupRefused("The backup has no valid schema_version.")
    if version > BACKUP_SCHEMA_VERSION:
        raise BackupRefused(
            f"This backup was written by a newer Aniworld (backup schema {version}; this installation reads up "
            f"to {BACKUP_SCHEMA_VERSION}). Update Aniworld, run migrate, then restore again. Nothing was changed."
        )
    _applied, on_disk = _migration_state()
    for label, names in (data.get("migrations") or {}).items():
        if label not in on_disk:
            raise BackupRefused(f"The backup contains app '{label}', which this installation does not know.")
        unknown = sorted(set(names) - on_disk[label])
        if unknown:
            raise BackupRefused(
                f"This backup comes from a newer database schema: migration(s) {', '.join(unknown)} of app "
                f"'{label}' do not exist here. Update Aniworld, run migrate, then restore again. Nothing was changed."
            )
    if not isinstance(data.get("objects"), list):
        raise BackupRefused("The backup has no 'objects' list.")


def restore_backup(data: dict[str, Any], actor: str = "restore") -> dict[str, int]:
    """Replace settings, library and queue records with the backup's, in one transaction."""
    from apps.configuration.models import Settings, SettingsChange
    from apps.configuration.schedules import sync_periodic_tasks

    check_compatible(data)
    ordered = backup_models()
    known = {model._meta.label_lower for model in ordered}
    foreign = sorted({obj.get("model", "?") for obj in data["objects"]} - known)
    if foreign:
        raise BackupRefused(f"The backup holds records of models this installation does not have: {foreign}.")
    previous_revision = selectors.get_settings().revision
    try:
        with transaction.atomic():
            for model in reversed(ordered):
                model._base_manager.all().delete()
            with connection.constraint_checks_disabled():
                for restored in serializers.deserialize("json", json.dumps(data["objects"]), ignorenonexistent=True):
                    restored.save()
            connection.check_constraints(table_names=[model._meta.db_table for model in ordered])
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), ordered):
                    cursor.execute(statement)
            row, _ = Settings.objects.select_for_update().get_or_create(pk=defaults.SETTINGS_ROW_ID)
            row.revision = max(previous_revision, row.revision) + 1
            row.save()
            SettingsChange.objects.create(
                actor=actor,
                field="(restore)",
                old_value=None,
                new_value={"backup_created_at": data.get("created_at")},
                revision=row.revision,
            )
            sync_periodic_tasks(row)
            revision = row.revision
            transaction.on_commit(lambda: selectors.publish_revision(revision))
    except (DeserializationError, IntegrityError, DatabaseError) as exc:
        raise BackupRefused(f"The backup could not be loaded ({exc}); nothing was changed.") from None
    selectors.invalidate_cache()
    return _count(data["objects"])
