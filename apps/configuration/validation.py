"""Checks for every owner setting: each validator returns the clean value or raises FieldInvalid.

Validators get the current settings too, so a masked secret sent back unchanged
(``********`` or a privacy-masked Apprise URL) keeps the stored value, and
partial dictionaries (provider URLs, request rates) merge into the stored ones.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from apps.catalog.types import Language, Site
from apps.configuration import defaults
from apps.configuration.models import Settings
from apps.library import naming


class FieldInvalid(Exception):
    """``parts``: messages about one key of a mapping field (a site's URL), shown under that key's own input."""

    def __init__(self, *messages: str, parts: dict[str, list[str]] | None = None):
        super().__init__("; ".join(messages))
        self.messages = list(messages)
        self.parts = parts or {}


Validator = Callable[[Any, Settings], Any]

SECRET_FIELDS = frozenset({"jellyfin_api_key", "plex_token"})
MASKED_URL_FIELDS = frozenset({"notification_urls"})
READ_ONLY_FIELDS = frozenset({"setup_completed", "setup_completed_at", "revision", "updated_at"})


# --- small building blocks ------------------------------------------------------------


def _integer(value: Any, minimum: int, maximum: int, what: str = "a whole number") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldInvalid(f"Must be {what} between {minimum} and {maximum}.")
    if not minimum <= value <= maximum:
        raise FieldInvalid(f"Must be between {minimum} and {maximum} (got {value}).")
    return value


def _boolean(value: Any, _current: Settings) -> bool:
    if not isinstance(value, bool):
        raise FieldInvalid("Must be true or false.")
    return value


def _string_list(value: Any, *, allow_empty: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldInvalid("Must be a list of strings.")
    if not value and not allow_empty:
        raise FieldInvalid("Choose at least one.")
    return value


def _no_duplicates(values: list[str]) -> None:
    seen: set[str] = set()
    duplicates = [value for value in values if value in seen or seen.add(value)]
    if duplicates:
        raise FieldInvalid(f"Listed more than once: {', '.join(dict.fromkeys(duplicates))}.")


def http_url_problem(value: Any) -> str | None:
    """Why ``value`` is not a well-formed http(s) base URL, or None when it is."""
    if not isinstance(value, str) or not value.strip():
        return "Must be an http:// or https:// URL."
    value = value.strip()
    if any(ch.isspace() for ch in value):
        return "A URL cannot contain spaces."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"Not a valid URL ({exc})."
    if parts.scheme not in ("http", "https"):
        return "Must start with http:// or https://."
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username or parts.password:
        return "Put no user name or password in the URL."
    if parts.query or parts.fragment:
        return "Give the base URL only, without ?query or #fragment."
    if port == 0:
        return "Port 0 is not valid."
    return None


def _http_url(value: Any) -> str:
    problem = http_url_problem(value)
    if problem:
        raise FieldInvalid(problem)
    return value.strip().rstrip("/")


def _optional_http_url(value: Any, _current: Settings) -> str:
    if value in ("", None):
        return ""
    return _http_url(value)


def _site_mapping(value: Any, stored: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldInvalid(f"Must be an object keyed by site: {', '.join(site.value for site in Site)}.")
    unknown = sorted(set(value) - {site.value for site in Site})
    if unknown:
        raise FieldInvalid(f"Unknown site(s): {', '.join(unknown)}; known: {', '.join(site.value for site in Site)}.")
    return {**stored, **value}


# --- the fields ------------------------------------------------------------------------


def validate_library_path(value: Any, _current: Settings) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldInvalid("Give the library folder as an absolute path, e.g. /srv/anime.")
    value = value.strip()
    if "\x00" in value:
        raise FieldInvalid("The path contains a NUL character.")
    if not os.path.isabs(value):
        raise FieldInvalid(f"Must be an absolute path (starting with /), got {value!r}.")
    if ".." in value.replace("\\", "/").split("/"):
        raise FieldInvalid("The path must not contain '..'.")
    if len(value) > 1024:
        raise FieldInvalid("The path is longer than 1024 characters.")
    return os.path.normpath(value)


def validate_max_concurrent_downloads(value: Any, _current: Settings) -> int:
    return _integer(value, 1, defaults.MAX_CONCURRENT_DOWNLOADS)


def validate_max_retries(value: Any, _current: Settings) -> int:
    return _integer(value, 0, defaults.MAX_RETRIES)


def validate_retry_backoff_seconds(value: Any, _current: Settings) -> int:
    return _integer(value, 1, defaults.MAX_RETRY_BACKOFF_SECONDS, "a number of seconds")


def validate_language_preference(value: Any, _current: Settings) -> list[str]:
    values = _string_list(value, allow_empty=False)
    known = {language.value: language for language in Language}
    unknown = [item for item in values if item not in known]
    if unknown:
        choices = ", ".join(f"{language.value} ({language.label})" for language in Language)
        raise FieldInvalid(f"Unknown language(s): {', '.join(unknown)}; choose from {choices}.")
    _no_duplicates(values)
    return values


def validate_hoster_preference(value: Any, _current: Settings) -> list[str]:
    values = _string_list(value, allow_empty=False)
    known = defaults.known_hosters()
    canonical = {name.lower(): name for name in known}
    unknown = [item for item in values if item.strip().lower() not in canonical]
    if unknown:
        raise FieldInvalid(f"Unknown hoster(s): {', '.join(unknown)}; known: {', '.join(known)}.")
    normalized = [canonical[item.strip().lower()] for item in values]
    _no_duplicates(normalized)
    return normalized


def naming_template_problems(template: Any) -> tuple[list[str], dict[str, str] | None]:
    """Problems with a naming template (judged by the library's renderer) or, when none, its sample paths.

    The sample paths are ``{"episode": …, "film": …}`` relative to the library, with extension.
    """
    if not isinstance(template, str):
        return ["Give the template as text, e.g. " + defaults.DEFAULT_NAMING_TEMPLATE], None
    if len(template) > 512:
        return ["The template is longer than 512 characters."], None
    try:
        naming.validate_template(template)
        return [], naming.preview(template)
    except (naming.TemplateError, naming.UnsafePathError) as exc:
        return [str(exc)], None


def validate_naming_template(value: Any, _current: Settings) -> str:
    problems, _rendered = naming_template_problems(value)
    if problems:
        raise FieldInvalid(*problems)
    return value


def validate_provider_urls(value: Any, current: Settings) -> dict[str, str]:
    merged = _site_mapping(value, current.provider_urls or defaults.default_provider_urls())
    errors = []
    parts: dict[str, list[str]] = {}
    for site, url in value.items():
        problem = http_url_problem(url)
        if problem:
            errors.append(f"{site}: {problem}")
            parts[site] = [problem]
        else:
            merged[site] = url.strip().rstrip("/")
    if errors:
        raise FieldInvalid(*errors, parts=parts)
    return merged


def validate_request_rates(value: Any, current: Settings) -> dict[str, float]:
    merged = _site_mapping(value, current.request_rates or defaults.default_request_rates())
    errors = []
    parts: dict[str, list[str]] = {}
    for site, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            problem = "Must be a number of requests per second."
        elif not defaults.MIN_REQUEST_RATE <= rate <= defaults.MAX_REQUEST_RATE:
            problem = (
                f"Must be above 0 (at least {defaults.MIN_REQUEST_RATE:g}) "
                f"and at most {defaults.MAX_REQUEST_RATE:g} requests per second."
            )
        else:
            merged[site] = float(rate)
            continue
        errors.append(f"{site}: {problem[0].lower()}{problem[1:]}")
        parts[site] = [problem]
    if errors:
        raise FieldInvalid(*errors, parts=parts)
    return merged


def validate_check_new_episodes_hours(value: Any, _current: Settings) -> int:
    return _integer(value, 0, defaults.MAX_CHECK_NEW_EPISODES_HOURS, "a number of hours (0 = never)")


def validate_nightly_rescan_time(value: Any, _current: Settings) -> time:
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", value.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return time(hour, minute)
    raise FieldInvalid("Must be a time of day as HH:MM, e.g. 03:30.")


def validate_history_retention_days(value: Any, _current: Settings) -> int:
    return _integer(value, 0, defaults.MAX_HISTORY_RETENTION_DAYS, "a number of days (0 = keep forever)")


def validate_speed_limit_bytes(value: Any, _current: Settings) -> int:
    return _integer(value, 0, defaults.MAX_SPEED_LIMIT_BYTES, "a number of bytes per second (0 = unlimited)")


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise logs rejected URLs verbatim, and its URLs carry tokens: keep them out of the logs."""
    apprise_logger = logging.getLogger("apprise")
    previous = apprise_logger.level
    apprise_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        apprise_logger.setLevel(previous)


def masked_apprise_url(url: str) -> str:
    """Apprise's own privacy form of a URL (passwords and tokens replaced)."""
    import apprise

    with quiet_apprise():
        plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin else "(unreadable URL)"


def validate_notification_urls(value: Any, current: Settings) -> list[str]:
    import apprise

    values = _string_list(value, allow_empty=True)
    if len(values) > 20:
        raise FieldInvalid("At most 20 notification targets.")
    stored_by_mask = {masked_apprise_url(url): url for url in current.notification_urls or []}
    cleaned: list[str] = []
    errors: list[str] = []
    for position, url in enumerate(values, start=1):
        url = url.strip()
        if url in stored_by_mask:
            cleaned.append(stored_by_mask[url])
            continue
        with quiet_apprise():
            accepted = bool(url) and apprise.Apprise().add(url)
        if accepted:
            cleaned.append(url)
        else:
            scheme = url.split("://", 1)[0] if "://" in url else ""
            hint = f" (scheme {scheme}:// unknown or parts missing)" if scheme else ""
            errors.append(f"Target {position} is not an Apprise URL Aniworld can use{hint}.")
    if errors:
        raise FieldInvalid(*errors)
    _no_duplicates(cleaned)
    return cleaned


def validate_notification_events(value: Any, _current: Settings) -> list[str]:
    values = _string_list(value, allow_empty=True)
    unknown = [item for item in values if item not in defaults.NOTIFICATION_EVENTS]
    if unknown:
        raise FieldInvalid(
            f"Unknown event(s): {', '.join(unknown)}; choose from {', '.join(defaults.NOTIFICATION_EVENTS)}."
        )
    _no_duplicates(values)
    return values


def _secret(field: str) -> Validator:
    def validate(value: Any, current: Settings) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise FieldInvalid("Must be a string.")
        if value == defaults.SECRET_MASK:
            return getattr(current, field)
        value = value.strip()
        if len(value) > 256:
            raise FieldInvalid("Longer than 256 characters.")
        if any(ch.isspace() or not ch.isprintable() for ch in value):
            raise FieldInvalid("Must not contain spaces or control characters.")
        return value

    return validate


def validate_plex_section_id(value: Any, _current: Settings) -> str:
    if value in ("", None):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip().isdigit() or len(value.strip()) > 32:
        raise FieldInvalid("Must be the numeric id of a Plex library section (empty = refresh all sections).")
    return value.strip()


VALIDATORS: dict[str, Validator] = {
    "library_path": validate_library_path,
    "max_concurrent_downloads": validate_max_concurrent_downloads,
    "max_retries": validate_max_retries,
    "retry_backoff_seconds": validate_retry_backoff_seconds,
    "language_preference": validate_language_preference,
    "hoster_preference": validate_hoster_preference,
    "hoster_order_automatic": _boolean,
    "naming_template": validate_naming_template,
    "provider_urls": validate_provider_urls,
    "request_rates": validate_request_rates,
    "check_new_episodes_hours": validate_check_new_episodes_hours,
    "auto_queue_new_episodes": _boolean,
    "nightly_rescan_enabled": _boolean,
    "nightly_rescan_time": validate_nightly_rescan_time,
    "history_retention_days": validate_history_retention_days,
    "speed_limit_bytes": validate_speed_limit_bytes,
    "notification_urls": validate_notification_urls,
    "notification_events": validate_notification_events,
    "jellyfin_url": _optional_http_url,
    "jellyfin_api_key": _secret("jellyfin_api_key"),
    "plex_url": _optional_http_url,
    "plex_token": _secret("plex_token"),
    "plex_section_id": validate_plex_section_id,
}
EDITABLE_FIELDS = tuple(VALIDATORS)


def _cross_field_errors(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if values["jellyfin_url"] and not values["jellyfin_api_key"]:
        errors["jellyfin_api_key"] = ["An API key is needed to refresh Jellyfin/Emby (Dashboard > API Keys)."]
    if values["plex_url"] and not values["plex_token"]:
        errors["plex_token"] = ["A Plex token is needed to refresh Plex."]
    return errors


# A media server's URL and the secret sent to it: a new URL needs the secret typed again, or changing only
# the URL (with the secret shown masked) would send the stored key to whatever host the new URL names.
URL_SECRETS = {"jellyfin_url": ("jellyfin_api_key", "Jellyfin/Emby API key"), "plex_url": ("plex_token", "Plex token")}


def _secret_resent_errors(changes: dict[str, Any], clean: dict[str, Any], current: Settings) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for url_field, (secret_field, label) in URL_SECRETS.items():
        new_url = clean.get(url_field)
        if not new_url or new_url == getattr(current, url_field) or not getattr(current, secret_field):
            continue
        if changes.get(secret_field) in (None, defaults.SECRET_MASK):
            errors[secret_field] = [
                f"The server address changed: enter the {label} again (the stored one is only sent to the "
                "address it was entered for)."
            ]
    return errors


def validate_changes(changes: Any, current: Settings) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check a partial update against the current settings: (clean changed values, errors by field).

    Every field is checked, so the caller can report all problems at once.
    """
    if not isinstance(changes, dict):
        return {}, {"non_field_errors": ["Send a JSON object of setting names and values."]}
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in changes.items():
        if field in READ_ONLY_FIELDS:
            errors[field] = ["This value is read-only."]
            continue
        validator = VALIDATORS.get(field)
        if validator is None:
            errors[field] = [f"Unknown setting; known: {', '.join(EDITABLE_FIELDS)}."]
            continue
        try:
            clean[field] = validator(value, current)
        except FieldInvalid as exc:
            errors[field] = exc.messages
            for part, messages in exc.parts.items():  # e.g. "provider_urls.aniworld": under that input only
                errors[f"{field}.{part}"] = messages
    merged = {field: clean.get(field, getattr(current, field)) for field in EDITABLE_FIELDS}
    cross_field = {**_cross_field_errors(merged), **_secret_resent_errors(changes, clean, current)}
    for field, messages in cross_field.items():
        if field not in errors:
            errors[field] = messages
    return clean, errors
