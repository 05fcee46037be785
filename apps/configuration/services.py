"""Changes to the owner's settings: validated all together, saved all or nothing, with history.

:func:`update_settings` is the only code that writes the settings row (besides
``restore``). After the commit it publishes the new revision so every process
reloads, re-syncs the beat schedules and sends ``settings_changed``.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from aniworld_site.errors import ApiError, Conflict
from apps.configuration import defaults, selectors
from apps.configuration.models import Settings, SettingsChange
from apps.configuration.signals import settings_changed
from apps.configuration.validation import (
    EDITABLE_FIELDS,
    MASKED_URL_FIELDS,
    SECRET_FIELDS,
    masked_apprise_url,
    validate_changes,
)

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"


class SettingsInvalid(ApiError):
    """400 with ``details`` = {field: [messages]} for every field that failed."""

    def __init__(self, errors: dict[str, list[str]]):
        fields = ", ".join(defaults.field_label(name) for name in errors if "." not in name)
        super().__init__(
            f"Some settings are not valid ({fields}); nothing was saved.",
            code="invalid_settings",
            status_code=400,
            details=errors,
        )
        self.errors = errors


def actor_name(actor: AbstractBaseUser | str | None) -> str:
    if actor is None:
        return SYSTEM_ACTOR
    if isinstance(actor, str):
        return actor
    return actor.get_username() or SYSTEM_ACTOR


# --- representation -------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def masked_value(field: str, value: Any) -> Any:
    """A value as it may be shown or stored in history: secrets masked, times as HH:MM."""
    if field in SECRET_FIELDS:
        return defaults.SECRET_MASK if value else ""
    if field in MASKED_URL_FIELDS:
        return [masked_apprise_url(url) for url in value or []]
    return _plain(value)


def public_settings(current: Settings | None = None) -> dict[str, Any]:
    """The settings as the API shows them: every editable field (secrets masked) plus status fields."""
    current = current or selectors.get_settings()
    data = {field: masked_value(field, getattr(current, field)) for field in EDITABLE_FIELDS}
    data["library_path"] = current.library_path or str(django_settings.DEFAULT_LIBRARY_DIR)
    data["setup_completed"] = current.setup_completed_at is not None
    data["revision"] = current.revision
    data["updated_at"] = current.updated_at
    return data


# --- writes --------------------------------------------------------------------------


def _locked_row() -> Settings:
    row, _created = Settings.objects.select_for_update().get_or_create(pk=defaults.SETTINGS_ROW_ID)
    return row


def _after_commit(revision: int, fields: list[str]) -> None:
    selectors.invalidate_cache()
    selectors.publish_revision(revision)
    settings_changed.send(sender=Settings, revision=revision, fields=fields)


def _save_changes(row: Settings, clean: dict[str, Any], actor: str) -> list[str]:
    """Apply clean values to the locked row, write history, schedule the after-commit work."""
    from apps.configuration.schedules import SCHEDULE_FIELDS, sync_periodic_tasks

    changed = [field for field, value in clean.items() if getattr(row, field) != value]
    if not changed:
        return []
    revision = row.revision + 1
    history = [
        SettingsChange(
            actor=actor,
            field=field,
            old_value=masked_value(field, getattr(row, field)),
            new_value=masked_value(field, clean[field]),
            revision=revision,
        )
        for field in changed
    ]
    for field in changed:
        setattr(row, field, clean[field])
    row.revision = revision
    row.save()
    SettingsChange.objects.bulk_create(history)
    if SCHEDULE_FIELDS.intersection(changed):
        sync_periodic_tasks(row)
    selectors.invalidate_cache()
    transaction.on_commit(lambda: _after_commit(revision, changed))
    logger.info("settings revision %s saved by %s: changed %s", revision, actor, ", ".join(changed))
    return changed


def update_settings(changes: dict[str, Any], actor: AbstractBaseUser | str | None) -> Settings:
    """Validate every field of a partial update; save all of it or, when any field is invalid, nothing.

    Raises :class:`SettingsInvalid` listing every bad field.
    """
    with transaction.atomic():
        row = _locked_row()
        clean, errors = validate_changes(changes, row)
        if errors:
            raise SettingsInvalid(errors)
        _save_changes(row, clean, actor_name(actor))
    return row


def check_settings(changes: dict[str, Any]) -> tuple[Settings, dict[str, list[str]]]:
    """Validate a partial update without saving: the would-be settings and the errors by field."""
    current = selectors.get_settings()
    clean, errors = validate_changes(changes, current)
    candidate = Settings(**{field: getattr(current, field) for field in EDITABLE_FIELDS})
    for field, value in clean.items():
        setattr(candidate, field, value)
    return candidate, errors


def complete_setup(library_path: Any, language_preference: Any, actor: AbstractBaseUser | str | None) -> Settings:
    """First-run step 2: library path and language order; 409 once done.

    The library folder is created when missing and must be writable here.
    """
    from apps.configuration.checks import check_library_path

    with transaction.atomic():
        row = _locked_row()
        if row.setup_completed_at is not None:
            raise Conflict("First-run setup is already complete; change settings on the settings page.")
        changes = {"library_path": library_path, "language_preference": language_preference}
        clean, errors = validate_changes(changes, row)
        if "library_path" not in errors:
            live = check_library_path(clean["library_path"], create=True)
            if not live.ok:
                errors["library_path"] = [live.detail]
        if errors:
            raise SettingsInvalid(errors)
        clean["setup_completed_at"] = timezone.now()
        _save_changes(row, clean, actor_name(actor))
    return row
