"""Errors the queue answers with (rendered as ``{"error": {...}}`` by the project's handler)."""

from __future__ import annotations

from typing import Any

from rest_framework import status

from aniworld_site.errors import ApiError


class ItemNotFound(ApiError):
    def __init__(self, item_id: Any, message: str | None = None):
        super().__init__(
            message or f"There is no queue item {item_id}.",
            code="not_found",
            status_code=status.HTTP_404_NOT_FOUND,
            details={"id": item_id},
        )


LISTED_IDS_LIMIT = 20  # a 404 for thousands of unknown ids names a few and counts the rest


def unknown_items(item_ids: list[Any]) -> ItemNotFound:
    """One 404 for several unknown ids: the first few listed, all of them counted."""
    listed = item_ids[:LISTED_IDS_LIMIT]
    more = len(item_ids) - len(listed)
    names = ", ".join(map(str, listed)) + (f" and {more} more" if more else "")
    error = ItemNotFound(listed, f"Unknown queue item(s): {names}.")
    error.details = {"id": listed, "count": len(item_ids)}
    return error


class InvalidQueueRequest(ApiError):
    def __init__(self, message: str, details: Any = None):
        super().__init__(message, code="invalid", status_code=status.HTTP_400_BAD_REQUEST, details=details)
