"""The only code that changes the download queue, in three parts plus import/export.

- :mod:`.commands` — the owner's commands: add, cancel, remove, reorder, priority, hold/release,
  retry, start/pause/stop, history.
- :mod:`.dispatcher` — dispatch, lease reaping, the beat tick, and a site's wait cleared ("try now").
- :mod:`.worker` — the worker side: claim, renew, complete, fail.
- :mod:`.transfer` — queue import/export.

Callers import this package; docs/architecture.md describes the states and invariants.
"""

from apps.queue.services.commands import (
    cancel_item,
    clear_completed,
    delete_orphaned_partials,
    enqueue_episodes,
    hold_item,
    pause_queue,
    prune_history,
    release_item,
    remove_items,
    reorder_item,
    resume_queue,
    retry_items,
    set_priority,
    start_queue,
    stop_queue,
)
from apps.queue.services.common import episode_label
from apps.queue.services.dispatcher import (
    celery_queue_for,
    clear_site_wait,
    dispatch,
    dispatch_when_concurrency_changes,
    heal,
    reap_expired_leases,
    received_task_ids,
    resend_unreceived,
    return_unsent,
    tick,
)
from apps.queue.services.transfer import ImportEntry, export_queue, import_queue, parse_import_entry
from apps.queue.services.worker import (
    Signal,
    acquire_lease,
    begin_source,
    complete_item,
    control_signal,
    fail_attempt,
    release_for_shutdown,
    renew_lease,
)

__all__ = [
    "ImportEntry",
    "Signal",
    "acquire_lease",
    "begin_source",
    "cancel_item",
    "celery_queue_for",
    "clear_completed",
    "clear_site_wait",
    "complete_item",
    "control_signal",
    "delete_orphaned_partials",
    "dispatch",
    "dispatch_when_concurrency_changes",
    "enqueue_episodes",
    "episode_label",
    "export_queue",
    "fail_attempt",
    "heal",
    "hold_item",
    "import_queue",
    "parse_import_entry",
    "pause_queue",
    "prune_history",
    "reap_expired_leases",
    "received_task_ids",
    "release_for_shutdown",
    "release_item",
    "remove_items",
    "renew_lease",
    "reorder_item",
    "resend_unreceived",
    "resume_queue",
    "retry_items",
    "return_unsent",
    "set_priority",
    "start_queue",
    "stop_queue",
    "tick",
]
