"""``manage.py missing``: print what is missing (and what could be upgraded), series by series."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Q

from apps.catalog.types import CatalogError
from apps.library import selectors, services
from apps.library.models import Series


class Command(BaseCommand):
    help = "List missing episodes (no file) and upgradable ones (a better language is offered now)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("series", nargs="*", help="Series ids or parts of titles (default: all).")
        parser.add_argument(
            "--refresh",
            action="store_true",
            help=f"First refresh episode lists from the sites (skipped when fresher than "
            f"{int(services.CATALOG_REFRESH_MAX_AGE.total_seconds() // 3600)} h).",
        )
        parser.add_argument("--force-refresh", action="store_true", help="Refresh from the sites regardless of age.")
        parser.add_argument("--no-upgrades", action="store_true", help="Only episodes without a file.")
        parser.add_argument("--monitored", action="store_true", help="Only monitored series.")

    def handle(self, *args, series: list[str], refresh: bool, force_refresh: bool, no_upgrades: bool, **options):
        chosen = Series.objects.order_by("title")
        if series:
            wanted = Q()
            for value in series:
                wanted |= Q(pk=int(value)) if value.isdigit() else Q(title__icontains=value)
            chosen = chosen.filter(wanted)
        if options["monitored"]:
            chosen = chosen.filter(monitored=True)
        chosen = list(chosen)
        if refresh or force_refresh:
            for item in chosen:
                try:
                    services.refresh_series(item, max_age=None if force_refresh else services.CATALOG_REFRESH_MAX_AGE)
                except CatalogError as exc:
                    self.stderr.write(self.style.WARNING(f"{item}: not refreshed: {exc or 'catalog not available'}"))

        report = selectors.missing_episodes(chosen, include_upgradable=not no_upgrades)
        if not report:
            self.stdout.write(self.style.SUCCESS("Nothing is missing."))
            return
        total_missing = total_upgradable = 0
        for item, episodes in report.items():
            missing = sum(1 for e in episodes if e.assessment.status == selectors.EpisodeStatus.MISSING)
            upgradable = len(episodes) - missing
            total_missing += missing
            total_upgradable += upgradable
            summary = f"{missing} missing" + (f", {upgradable} upgradable" if upgradable else "")
            self.stdout.write(self.style.MIGRATE_HEADING(f"{item} [{item.site}:{item.slug}] - {summary}"))
            for entry in episodes:
                episode, assessment = entry.episode, entry.assessment
                code = f"S{episode.season.number:02}E{episode.number:02}"
                title = (episode.title or "")[:50]
                if assessment.status == selectors.EpisodeStatus.MISSING:
                    offered = f" (best offered: {assessment.best_language.label})" if assessment.best_language else ""
                    detail = f"missing{offered}"
                else:
                    detail = f"upgradable: {assessment.reason}"
                self.stdout.write(f"  {code}  {title:<50}  {detail}")
        self.stdout.write(
            f"Total: {total_missing} missing"
            + (f", {total_upgradable} upgradable" if not no_upgrades else "")
            + f" in {len(report)} series."
        )
