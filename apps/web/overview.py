"""What the dashboard shows above the queue, in one read: disk, library totals, workers by node, sites."""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError

from apps.catalog.selectors import site_states
from apps.library.selectors import library_totals
from apps.queue.selectors import workers_by_node
from apps.web.health import check_library


def dashboard_overview() -> dict[str, Any]:
    _library, disk = check_library()
    try:
        nodes, workers_error = workers_by_node(), None
    except (RedisError, OSError) as exc:
        nodes, workers_error = [], f"Redis is unreachable, so worker heartbeats cannot be read: {exc}"
    return {
        "disk": {"ok": disk.ok, "detail": disk.detail, **disk.data},
        "library": library_totals(),
        "nodes": nodes,
        "workers_error": workers_error,
        "sites": site_states(),
    }
