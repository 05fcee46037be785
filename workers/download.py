"""What a worker does with one dispatched item (called by the Celery task ``download_item``).

claim the lease → resolve the episode's hosters → pick by language and hoster
preference (the next untried source first) → run the engine with a progress
callback → complete or record the failed attempt. Every state change goes
through :mod:`apps.queue.services`; this module only orchestrates. Each
hoster's outcome (with time to first byte and throughput) goes to the hoster
scorecard (:mod:`apps.scorecard`), whose automatic order, when the owner turns
it on, decides the hoster preference.

A heartbeat thread renews the lease and writes progress every few seconds, and
checks twice a second whether the item was cancelled, the queue stopped or the
worker is stopping cleanly; the engine's progress callback turns that into a
cooperative :class:`Cancelled`. On a clean worker stop the item goes back to the
queue at once with its partial file kept.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from apps.catalog import conf as catalog_conf
from apps.catalog import services as catalog
from apps.catalog.types import (
    CatalogError,
    EpisodeSources,
    HosterLink,
    Language,
    MediaSource,
    NotFoundOnSite,
    Site,
    SiteBlocking,
)
from apps.library import selectors as library_selectors
from apps.library import services as library
from apps.library.naming import UnsafePathError
from apps.queue import config, hoster_connections, services
from apps.queue.events import download_progress
from apps.queue.models import DownloadItem
from apps.scorecard import selectors as scorecard_selectors
from apps.scorecard import services as scorecard
from apps.scorecard.models import Outcome
from workers.engine import (
    Cancelled,
    EngineError,
    Failure,
    FailureKind,
    TargetConflict,
    classify,
    discard_partial,
    incoming_dir,
)
from workers.engine.engine import DownloadRequest, download
from workers.engine.errors import InsufficientSpace
from workers.engine.fetch import EngineOptions
from workers.engine.storage import partial_bytes
from workers.node import shutdown_requested, worker_identity

logger = logging.getLogger("aniworld.download")


def source_key(link: HosterLink) -> str:
    return f"{link.hoster}:{link.language.value}"


def plan_sources(
    sources: EpisodeSources,
    *,
    wanted_language: str | None,
    languages: Sequence[str],
    hosters: Sequence[str],
    tried: Sequence[str],
) -> list[HosterLink]:
    """The links to try, best first: by language preference, then hoster preference; untried ones lead.

    A wanted language (set on the item) allows only that language. Sources tried
    by earlier attempts go last (oldest first), so each retry moves on to the
    next hoster/language and the list wraps around when all were tried.
    """
    allowed = [wanted_language] if wanted_language else list(languages)
    language_rank = {language: rank for rank, language in enumerate(allowed)}
    hoster_rank = {name.lower(): rank for rank, name in enumerate(hosters)}
    links = [link for link in sources.hosters if link.language.value in language_rank]
    links.sort(key=lambda link: (language_rank[link.language.value], hoster_rank.get(link.hoster.lower(), 1000)))
    tried_order = {key: index for index, key in enumerate(tried)}
    return sorted(links, key=lambda link: (source_key(link) in tried_order, tried_order.get(source_key(link), -1)))


def no_source_reason(sources: EpisodeSources, wanted_language: str | None, languages: Sequence[str]) -> str:
    offered = sorted({link.language.label for link in sources.hosters}) or ["nothing"]
    accepted = [Language(value).label for value in ([wanted_language] if wanted_language else languages)]
    return (
        f"No source in an allowed language: the site offers {', '.join(offered)}; "
        f"accepted: {', '.join(accepted) or 'none'}."
    )


@dataclass
class _Progress:
    bytes_done: int = 0
    bytes_total: int | None = None
    speed: float | None = None
    eta: float | None = None


class Heartbeat(threading.Thread):
    """Renews the lease, writes progress, and watches for cancel/stop while the download runs."""

    def __init__(self, item_id: int, worker_id: str):
        super().__init__(name=f"heartbeat-{item_id}", daemon=True)
        self.item_id = item_id
        self.worker_id = worker_id
        self.progress = _Progress()
        self.signal = services.Signal.CONTINUE
        self.signalled = threading.Event()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def update(self, bytes_done: int, bytes_total: int | None, speed: float | None, eta: float | None) -> None:
        with self._lock:
            self.progress = _Progress(bytes_done, bytes_total, speed, eta)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def _raise_signal(self, signal: str) -> None:
        if not self.signalled.is_set():
            self.signal = signal
            self.signalled.set()
            logger.debug("item %s: %s requested", self.item_id, signal)

    def run(self) -> None:
        check_every = config.control_check_seconds()
        write_every = config.progress_write_seconds()
        since_write = 0.0
        try:
            while not self._stop_event.wait(check_every):
                since_write += check_every
                if shutdown_requested():
                    self._raise_signal(services.Signal.SHUTDOWN)
                    continue
                try:
                    signal = services.control_signal(self.item_id, self.worker_id)
                    if signal != services.Signal.CONTINUE:
                        self._raise_signal(signal)
                        continue
                    if since_write >= write_every:
                        since_write = 0.0
                        with self._lock:
                            progress = self.progress
                        held = services.renew_lease(
                            self.item_id,
                            self.worker_id,
                            bytes_done=progress.bytes_done,
                            bytes_total=progress.bytes_total,
                            speed=progress.speed,
                            eta_seconds=progress.eta,
                        )
                        if not held:
                            self._raise_signal(services.control_signal(self.item_id, self.worker_id))
                except Exception as exc:  # database hiccup: keep trying; the lease outlives a few misses
                    logger.warning("item %s: heartbeat failed: %s", self.item_id, exc)
                    close_old_connections()
        finally:
            connection.close()


def _engine_options(site: str, hoster: str) -> EngineOptions:
    return EngineOptions(
        connections=hoster_connections.connections_for(site, hoster),
        range_chunk=settings.DOWNLOAD_RANGE_BYTES,
        rate_limit=config.speed_limit(),
        unknown_size_estimate=config.unknown_size_estimate_bytes(),
        allowed_hosts=catalog_conf.allowed_hosts(),
    )


def run_item(item_id: int, task_id: str, worker_id: str | None = None) -> str:
    """Run one dispatched item to its end; returns what happened (for the task result and the logs)."""
    worker_id = worker_id or worker_identity(task_id)
    item = services.acquire_lease(item_id, task_id, worker_id)
    if item is None:
        logger.info("item %s: task %s is not (or no longer) the one to run it; nothing to do", item_id, task_id)
        return "not-claimed"
    heartbeat = Heartbeat(item_id, worker_id)
    heartbeat.start()
    try:
        return _run_claimed(item, worker_id, heartbeat)
    finally:
        heartbeat.stop()


def _run_claimed(item: DownloadItem, worker_id: str, heartbeat: Heartbeat) -> str:
    episode = item.episode
    series = episode.season.series
    languages = [language.value for language in library_selectors.language_preference(series)]
    key: str | None = None
    try:
        sources = catalog.fetch_episode_sources(Site(series.site), series.slug, episode.season.number, episode.number)
        library.record_episode_languages(episode.pk, sources.languages)
        links = plan_sources(
            sources,
            wanted_language=item.language,
            languages=languages,
            hosters=scorecard_selectors.hoster_order(series.site),
            tried=item.tried_sources,
        )
        if not links:
            raise NotFoundOnSite(no_source_reason(sources, item.language, languages))
        link, media = _resolve_first(links, heartbeat, series.site)
        key = source_key(link)
        library_root = config.library_root()
        if not services.begin_source(item.pk, worker_id, link.hoster, link.language.value):
            discard_partial(incoming_dir(library_root), item.pk)
        language = link.language.value
        guard = _target_guard(episode.pk)
        # an unsafe name, or a name another episode's file has, fails before anything is fetched (again before the move)
        guard(library.episode_target_path(episode, "mkv", language))
        meter = scorecard.AttemptMeter()
        meter.start(partial_bytes(incoming_dir(library_root), item.pk))
        try:
            result = download(
                DownloadRequest(
                    item_id=item.pk,
                    source=media,
                    # the naming template's path with the extension of the container that arrived (mkv, mp4, webm)
                    target=lambda extension: library.episode_target_path(episode, extension, language),
                    library_root=library_root,
                    language=language,
                    title=item.label,
                    on_parallel_refused=functools.partial(scorecard.mark_single_connection, series.site, link.hoster),
                    before_move=guard,
                ),
                progress=_progress_callback(item.pk, series.pk, heartbeat, meter),
                options=_engine_options(series.site, link.hoster),
            )
        except EngineError as error:
            _score_failed_transfer(series.site, link.hoster, error, meter)
            raise
        meter.record(series.site, link.hoster, Outcome.SUCCESS)
        relative = library.to_library_relative(result.path)
        services.complete_item(
            item.pk, worker_id, relative_path=relative, size=result.size, language=link.language.value
        )
        library.remove_replaced_file(episode.file_path, replaced_by=relative)  # recorded before this download
        return "completed"
    except Cancelled as cancel:
        logger.info("item %s: stopped (%s)", item.pk, cancel.reason)
        if cancel.reason == services.Signal.SHUTDOWN:
            services.release_for_shutdown(worker_id)
            return "released"
        if cancel.discard_partial:
            discard_partial(incoming_dir(config.library_root()), item.pk)
        return "cancelled" if cancel.discard_partial else "stopped"
    except library.PathTaken as exc:  # another episode recorded the file while this one was moving it in
        services.fail_attempt(item.pk, worker_id, Failure(FailureKind.PERMANENT, str(exc)), key)
        return FailureKind.PERMANENT.value
    except UnsafePathError as exc:
        services.fail_attempt(item.pk, worker_id, Failure(FailureKind.PERMANENT, f"Unsafe target path: {exc}"), key)
        return "failed"
    except Exception as exc:
        failure = classify(exc)
        if not isinstance(exc, CatalogError | EngineError):
            logger.warning("item %s: unexpected error during the download", item.pk, exc_info=True)
        services.fail_attempt(item.pk, worker_id, failure, key)
        return failure.kind.value


def _target_guard(episode_id: int) -> Callable[[Path], bool]:
    """The engine's ``before_move``: another episode's file is never replaced; the episode's own may be."""

    def guard(target: Path) -> bool:
        try:
            return library.claim_target(episode_id, target)
        except library.PathTaken as exc:
            raise TargetConflict(str(exc)) from None

    return guard


def _resolve_first(links: list[HosterLink], heartbeat: Heartbeat, site: str) -> tuple[HosterLink, MediaSource]:
    """Resolve the first link that works; a dead hoster falls through to the next one at once (and is scored)."""
    reasons: list[str] = []
    for link in links:
        if heartbeat.signalled.is_set():
            raise Cancelled(heartbeat.signal, discard_partial=heartbeat.signal == services.Signal.CANCEL)
        try:
            return link, catalog.resolve_media(link)
        except SiteBlocking:
            raise
        except CatalogError as exc:
            reasons.append(f"{link.hoster} ({link.language.label}): {exc}")
            scorecard.record_attempt(site, link.hoster, Outcome.RESOLVE_FAILED)
            logger.info("item %s: hoster %s failed to resolve: %s", heartbeat.item_id, link.hoster, exc)
    raise _AllHostersFailed("No hoster could be resolved: " + "; ".join(reasons))


def _score_failed_transfer(site: str, hoster: str, error: EngineError, meter: scorecard.AttemptMeter) -> None:
    if isinstance(error, InsufficientSpace | TargetConflict):  # our disk or library, not the hoster
        return
    permanent = error.kind == FailureKind.PERMANENT
    meter.record(site, hoster, Outcome.DOWNLOAD_PERMANENT if permanent else Outcome.DOWNLOAD_FAILED)


class _AllHostersFailed(CatalogError):
    """Every candidate hoster failed to resolve this time (transient: the next attempt tries again)."""


def _progress_callback(item_id: int, series_id: int, heartbeat: Heartbeat, meter: scorecard.AttemptMeter) -> Any:
    progress = download_progress(item_id, series_id)

    def on_progress(bytes_done: int, bytes_total: int | None, speed: float | None, eta: float | None) -> None:
        meter.saw(bytes_done)
        if heartbeat.signalled.is_set():
            raise Cancelled(heartbeat.signal, discard_partial=heartbeat.signal == services.Signal.CANCEL)
        heartbeat.update(bytes_done, bytes_total, speed, eta)
        percent = round(100.0 * bytes_done / bytes_total, 1) if bytes_total else None
        progress.update(
            percent=percent,
            downloaded_bytes=bytes_done,
            total_bytes=bytes_total,
            speed_bytes_per_second=speed,
            eta_seconds=eta,
        )

    return on_progress
