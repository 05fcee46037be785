"""/api/queue/status pages every list by cursor; /api/queue/stats keeps lifetime totals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.queue import services
from apps.queue.models import DownloadItem, ItemState
from workers.engine import Failure, FailureKind

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(auth_client, library, sent):
    return auth_client


def queue(api, count: int, make_episodes, slug: str = "paged") -> list[int]:
    episode_ids = [episode.pk for episode in make_episodes(count, slug=slug)]
    response = api.post("/api/queue/add", {"episode_ids": episode_ids}, format="json")
    return [item["id"] for item in response.json()["queued"]]


def walk(api, name: str, limit: int) -> tuple[list[int], list[int]]:
    """Every id of one list, page by page, and the counts each page reported."""
    seen: list[int] = []
    counts: list[int] = []
    cursor = None
    for _ in range(100):
        query = f"/api/queue/status?limit={limit}" + (f"&{name}_cursor={cursor}" if cursor else "")
        response = api.get(query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body[name]) <= limit
        seen += [item["id"] for item in body[name]]
        counts.append(body["pages"][name]["count"])
        cursor = body["pages"][name]["next_cursor"]
        if cursor is None:
            return seen, counts
    raise AssertionError("the cursor never reached the end")


def test_every_item_of_a_long_list_is_reachable_once_in_order(api, make_episodes):
    api.post("/api/queue/pause")
    pending = queue(api, 11, make_episodes)
    for item_id in pending[1::3]:  # held items share the list (and its order) with pending ones
        assert api.post(f"/api/queue/{item_id}/pause").status_code == 200
    seen, counts = walk(api, "pending", limit=3)
    assert seen == pending  # dispatch order = the order they were added
    assert set(counts) == {11}


def test_history_pages_keep_newest_first_with_equal_times_and_missing_times(api, make_episodes):
    api.post("/api/queue/pause")
    ids = queue(api, 9, make_episodes)
    same_moment = timezone.now() - timedelta(hours=1)
    DownloadItem.objects.filter(pk__in=ids[:4]).update(state=ItemState.COMPLETED, finished_at=same_moment)
    DownloadItem.objects.filter(pk__in=ids[4:6]).update(state=ItemState.COMPLETED, finished_at=timezone.now())
    DownloadItem.objects.filter(pk__in=ids[6:]).update(state=ItemState.COMPLETED, finished_at=None)
    DownloadItem.objects.filter(pk__in=ids[1:7:2]).update(state=ItemState.CANCELLED)  # failed list: both states

    expected = sorted(ids[4:6], reverse=True) + sorted(ids[:4], reverse=True) + sorted(ids[6:], reverse=True)
    cancelled = set(ids[1:7:2])
    assert walk(api, "completed", limit=2) == ([i for i in expected if i not in cancelled], [6, 6, 6])
    assert walk(api, "failed", limit=2) == ([i for i in expected if i in cancelled], [3, 3])


def test_a_page_continues_after_its_cursor_when_items_come_and_go(api, make_episodes):
    api.post("/api/queue/pause")
    first_ids = queue(api, 4, make_episodes)
    body = api.get("/api/queue/status?limit=2").json()
    assert [item["id"] for item in body["pending"]] == first_ids[:2]
    DownloadItem.objects.filter(pk=first_ids[0]).delete()  # an item already shown goes away
    later = queue(api, 1, make_episodes, slug="later")
    rest = api.get(f"/api/queue/status?limit=10&pending_cursor={body['pages']['pending']['next_cursor']}").json()
    assert [item["id"] for item in rest["pending"]] == first_ids[2:] + later
    assert rest["pages"]["pending"] == {"count": 4, "next_cursor": None}


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJ4Il0", "WzEsMiwzXQ"])
def test_a_cursor_that_was_never_handed_out_is_a_400(api, cursor):
    response = api.get(f"/api/queue/status?completed_cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_lifetime_totals_survive_clearing_the_history(api, make_episodes):
    done, failed = (item_id for item_id in queue(api, 2, make_episodes))
    for item_id, worker in ((done, "worker-a"), (failed, "worker-b")):
        item = DownloadItem.objects.get(pk=item_id)
        assert services.acquire_lease(item_id, item.task_id, worker)
    DownloadItem.objects.filter(pk=done).update(started_at=timezone.now() - timedelta(seconds=4))
    assert services.complete_item(done, "worker-a", relative_path="a.mkv", size=4000, language="de")
    services.fail_attempt(failed, "worker-b", Failure(FailureKind.PERMANENT, "gone"))

    before = api.get("/api/queue/stats").json()
    assert before["lifetime"]["completed"] == 1 and before["lifetime"]["failed"] == 1
    assert before["bytes_downloaded"] == 4000 and before["lifetime"]["success_rate"] == 0.5
    assert 900 < before["average_speed"] < 1001

    assert api.delete("/api/queue/completed").json()["deleted"] == 1
    after = api.get("/api/queue/stats").json()
    assert after["counts"]["completed"] == 0
    assert after["lifetime"] == before["lifetime"]
    assert after["bytes_downloaded"] == 4000 and after["average_speed"] == before["average_speed"]
