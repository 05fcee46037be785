"""Each Celery queue receives only the messages meant for it."""

from __future__ import annotations

from aniworld_site.celery import QUEUE_NAMES, app


def test_every_queue_has_its_own_exchange_and_routing_key():
    queues = {queue.name: queue for queue in app.conf.task_queues}
    assert set(queues) == set(QUEUE_NAMES)
    routing_keys = [queue.routing_key for queue in queues.values()]
    assert len(set(routing_keys)) == len(routing_keys)
    for name, queue in queues.items():
        assert queue.exchange.name == name
        assert queue.routing_key == name


def test_tasks_are_acknowledged_late_with_prefetch_one():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
