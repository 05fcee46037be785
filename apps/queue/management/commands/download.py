"""``manage.py download <URL>``: add the series if needed, queue episodes, and with ``--wait`` watch them finish.

The episodes go through the same queue services as ``POST /api/queue/add``; the
downloads run on the cluster's workers (the queue lives in the shared database), so
this command only adds rows and, with ``--wait``, polls them for a progress bar per
download. Exit status: 0 when every download completed (or, without ``--wait``, was
queued), 1 when any failed or was cancelled, 2 for a usage error (bad URL, unknown
site, bad range or language), 130 when interrupted while waiting (the downloads go on).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from apps.catalog import services as catalog
from apps.catalog.types import CatalogError, Language
from apps.library import selectors as library_selectors
from apps.library import services as library
from apps.queue import selectors
from apps.queue import services as queue
from apps.queue.models import FINISHED_STATES, Priority

USAGE_ERROR = 2
INTERRUPTED = 130
POLL_SECONDS = 0.5
LANGUAGE_VALUES = [language.value for language in Language]


class Command(BaseCommand):
    help = (
        "Download from a series, season or episode URL: the series is added to the library if needed and the "
        "episodes are queued like in the web interface. With --wait, show a progress bar per download until all "
        "finish, then a summary; the exit status is non-zero if any failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", help="A series, season or episode address on aniworld.to or s.to.")
        parser.add_argument("--season", type=int, help="Season number (0 = films); overrides the URL's season.")
        parser.add_argument("--episodes", help="Episode numbers of the season, e.g. 1-5,8.")
        parser.add_argument(
            "--language", choices=LANGUAGE_VALUES, help="Only this language (default: the language preference)."
        )
        parser.add_argument("--priority", default="normal", choices=[p.api_name for p in Priority])
        parser.add_argument("--wait", action="store_true", help="Show progress until every download has finished.")
        parser.add_argument("--timeout", type=float, help="With --wait: give up waiting after this many seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.ending = ""  # rich writes whole lines itself
        self.console = Console(file=self.stdout, highlight=False, markup=False, emoji=False, soft_wrap=True)
        target = self._target(options)
        try:
            series, added = library.get_or_add_series(target.site, target.slug)
        except CatalogError as exc:
            raise CommandError(f"Could not add the series from {target.site.label}: {exc}") from exc
        self.console.print(f"{'Added' if added else 'In the library'}: {series.title} ({target.site.label})")
        episodes = self._episodes(series, target, options, refreshed=added)
        if not episodes:
            raise CommandError("No episodes to download there.", returncode=USAGE_ERROR)
        result = queue.enqueue_episodes([episode.pk for episode in episodes], options["priority"], options["language"])
        item_ids = [item["id"] for item in result["queued"]]
        for item in result["queued"]:
            self.console.print(f"Queued: {item['label']} (item {item['id']}, {options['priority']} priority)")
        already = selectors.open_item_ids([skip["episode_id"] for skip in result["skipped"]])
        for skip in result["skipped"]:
            self.console.print(f"Skipped episode {skip['episode_id']}: {skip['reason']}")
        item_ids += [item_id for item_id in already.values() if item_id not in item_ids]
        if not options["wait"] or not item_ids:
            return
        items = self._watch(item_ids, options["timeout"])
        if self._summary(items):
            raise CommandError("Some downloads did not complete (see above).", returncode=1)

    # -- arguments ----------------------------------------------------------------------
    def _target(self, options: dict[str, Any]) -> catalog.CatalogTarget:
        """The URL and options checked before anything is sent; sets ``options["numbers"]``."""
        options["numbers"] = None
        try:
            target = catalog.parse_catalog_url(options["url"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc
        if options["season"] is not None:
            if options["season"] < 0:
                raise CommandError("--season is 0 (films) or more.", returncode=USAGE_ERROR)
            if target.episode is not None and options["season"] != target.season:
                raise CommandError(
                    "The URL names one episode of another season; leave out --season.", returncode=USAGE_ERROR
                )
            target = catalog.CatalogTarget(target.site, target.slug, options["season"], target.episode)
        if options["episodes"] is not None:
            if target.episode is not None:
                raise CommandError("The URL names one episode; leave out --episodes.", returncode=USAGE_ERROR)
            if target.season is None:
                raise CommandError(
                    "--episodes needs a season: give a season URL or --season N.", returncode=USAGE_ERROR
                )
            try:
                options["numbers"] = library_selectors.parse_episode_numbers(options["episodes"])
            except ValueError as exc:
                raise CommandError(f"--episodes: {exc}", returncode=USAGE_ERROR) from exc
        return target

    def _episodes(self, series: Any, target: catalog.CatalogTarget, options: dict[str, Any], *, refreshed: bool):
        numbers = [target.episode] if target.episode is not None else options["numbers"]
        try:
            episodes = library.episodes_by_numbers(series, target.season, numbers)
        except library.EpisodesNotInLibrary as exc:
            if refreshed:
                raise CommandError(f"{series.title}: {exc}.", returncode=USAGE_ERROR) from exc
            episodes = []
        if episodes or refreshed:
            return episodes
        try:  # the episodes may have appeared on the site since the series was last refreshed
            library.refresh_series(series)
            return library.episodes_by_numbers(series, target.season, numbers)
        except library.EpisodesNotInLibrary as exc:
            raise CommandError(f"{series.title}: {exc}.", returncode=USAGE_ERROR) from exc
        except CatalogError as exc:
            raise CommandError(f"Could not refresh {series.title}: {exc}") from exc

    # -- watching -----------------------------------------------------------------------
    def _watch(self, item_ids: list[int], timeout: float | None) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout if timeout else None
        columns = (
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[state]}", markup=False),
        )
        states: dict[int, str] = {}
        items = selectors.items_data(item_ids)
        try:
            with Progress(*columns, console=self.console, transient=False) as progress:
                tasks: dict[int, TaskID] = {
                    item["id"]: progress.add_task(item["label"], total=None, state=item["state"]) for item in items
                }
                while True:
                    items = selectors.items_data(item_ids)
                    for item in items:
                        self._show(progress, tasks[item["id"]], item, states)
                    if all(item["state"] in FINISHED_STATES for item in items):
                        return items
                    if deadline is not None and time.monotonic() > deadline:
                        self.console.print(f"Stopped waiting after {timeout:.0f} s; the downloads go on.")
                        return items
                    time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            self.console.print("Stopped waiting; the downloads go on in the queue.")
            raise CommandError("Interrupted.", returncode=INTERRUPTED) from None

    def _show(self, progress: Progress, task: TaskID, item: dict[str, Any], states: dict[int, str]) -> None:
        state = item["state"]
        total = item["bytes_total"]
        progress.update(task, completed=item["bytes_done"], total=total, state=state)
        shown = f"{state}:{item['hoster']}:{item['language_used']}"  # a line when the state or the source changes
        if states.get(item["id"]) == shown:
            return
        states[item["id"]] = shown
        detail = ""
        if state == "downloading" and item["hoster"]:
            detail = f" from {item['hoster']} ({item['language_used']})"
        elif state == "pending" and item["last_error"]:
            detail = f" (retrying: {item['last_error']})"
        progress.console.print(f"{item['label']}: {state}{detail}")

    def _summary(self, items: list[dict[str, Any]]) -> bool:
        """Print one line per item and the counts; True when any did not complete."""
        self.console.print("Summary:")
        counts: dict[str, int] = {}
        for item in items:
            counts[item["state"]] = counts.get(item["state"], 0) + 1
            if item["state"] == "completed":
                self.console.print(f"  completed  {item['label']} -> {item['file_path']}")
            elif item["state"] in ("failed", "cancelled"):
                self.console.print(
                    f"  {item['state']:<10} {item['label']}: {item['last_error'] or 'no reason recorded'}"
                )
            else:
                self.console.print(f"  {item['state']:<10} {item['label']} (still in the queue)")
        self.console.print(", ".join(f"{count} {state}" for state, count in sorted(counts.items())))
        return any(item["state"] != "completed" for item in items)
