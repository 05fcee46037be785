"""Each Celery queue receives only the messages meant for it, and every task keeps its registered name."""

from __future__ import annotations

from aniworld_site import stack, tasks
from aniworld_site.celery import app

# Written out on purpose: deployments (worker -Q lists), beat rows and messages in flight use these strings.
EXPECTED_QUEUES = {"downloads.high", "downloads.normal", "downloads.low", "maintenance"}
EXPECTED_TASKS = {
    "workers.downloads.download_item": None,  # the dispatcher picks downloads.<priority> per message
    "workers.downloads.dispatch_tick": "maintenance",
    "library.scan": "maintenance",
    "workers.schedules.check_new_episodes": "maintenance",
    "workers.schedules.rescan_library": "maintenance",
    "workers.schedules.prune_history": "maintenance",
    "workers.schedules.send_notification": "maintenance",
    "workers.schedules.refresh_media_servers": "maintenance",
}


def test_every_queue_has_its_own_exchange_and_routing_key():
    queues = {queue.name: queue for queue in app.conf.task_queues}
    assert set(queues) == EXPECTED_QUEUES
    for name, queue in queues.items():
        assert queue.exchange.name == name
        assert queue.exchange.type == "direct"
        assert queue.routing_key == name
    assert app.conf.task_default_queue == app.conf.task_default_exchange == "maintenance"


def test_a_worker_started_by_the_stack_consumes_every_queue(tmp_path):
    argv = stack.Stack(data_dir=tmp_path).worker_argv(1)
    assert set(argv[argv.index("-Q") + 1].split(",")) == EXPECTED_QUEUES


def test_every_task_is_registered_under_its_name_on_its_queue():
    app.loader.import_default_modules()
    registered = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert set(registered) == set(EXPECTED_TASKS)
    for name, queue in EXPECTED_TASKS.items():
        assert getattr(registered[name], "queue", None) == queue, name
    constants = {value for key, value in vars(tasks).items() if key.isupper() and isinstance(value, str)}
    assert set(EXPECTED_TASKS) <= constants


def test_download_priorities_map_to_their_queues():
    from apps.queue.models import Priority
    from apps.queue.services import celery_queue_for

    assert {celery_queue_for(priority): priority.name for priority in Priority} == {
        "downloads.high": "HIGH",
        "downloads.normal": "NORMAL",
        "downloads.low": "LOW",
    }


def test_tasks_are_acknowledged_late_with_prefetch_one():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
