"""``manage.py import <folder>``: adopt an existing library folder (match or add its series, then scan)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.types import Site
from apps.library import services

STYLES = {
    "added": "SUCCESS",
    "already_in_library": "SUCCESS",
    "would_add": "NOTICE",
    "ambiguous": "WARNING",
    "not_found": "WARNING",
    "error": "ERROR",
}


class Command(BaseCommand):
    help = (
        "Adopt existing series folders: the library folder itself (every series folder in it) or one series "
        "folder inside it. Each folder is matched to a series in the library or found on the catalog by its "
        "name and year, then the library is scanned."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--site", choices=[site.value for site in Site], help="Search only this site.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be added; change nothing.")
        parser.add_argument("--no-scan", action="store_true", help="Do not scan the library afterwards.")

    def handle(self, *args, folder: str, site: str | None, dry_run: bool, no_scan: bool, **options) -> None:
        try:
            outcomes = services.import_library_folder(folder, site=site, dry_run=dry_run)
        except services.ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        if not outcomes:
            self.stdout.write("No series folders found.")
        for outcome in outcomes:
            style = getattr(self.style, STYLES.get(outcome.status, "NOTICE"))
            self.stdout.write(style(f"{outcome.folder}: {outcome.status.replace('_', ' ')} - {outcome.message}"))
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        self.stdout.write(", ".join(f"{count} {status.replace('_', ' ')}" for status, count in sorted(counts.items())))
        if dry_run or no_scan:
            return
        result = services.rescan_library()
        if result["status"] == "skipped":
            self.stdout.write(self.style.WARNING("A scan is already running; the files are picked up by it."))
        else:
            self.stdout.write(
                f"Scanned: {result['episodes_found']} episode files found, {result['unmatched_files']} not placed."
            )
