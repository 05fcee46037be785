"""Lists every page and script shares (languages, sites, priorities, states), from their one definition.

Templates use them directly; ``web/base.html`` hands them to the scripts once with ``json_script``
(``Api.lists`` in ``web/api.js``), so no script keeps its own copy.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from apps.catalog.types import LANGUAGE_CHOICES, SITE_CHOICES
from apps.library.selectors import EpisodeStatus
from apps.queue.models import ItemState, Priority, QueueState


@cache
def _lists() -> dict[str, Any]:
    return {
        "languages": dict(LANGUAGE_CHOICES),
        "sites": dict(SITE_CHOICES),
        "priorities": {priority.api_name: priority.label for priority in Priority},
        "default_priority": Priority.NORMAL.api_name,
        "item_states": {state.value: state.label for state in ItemState},
        "queue_states": {state.value: state.label for state in QueueState},
        "episode_states": [value for name, value in vars(EpisodeStatus).items() if name.isupper()],
    }


def shared_lists(request: HttpRequest) -> dict[str, Any]:
    return {"shared_lists": _lists()}
