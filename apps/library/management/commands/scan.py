"""``manage.py scan``: scan the library folder now, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.configuration.selectors import library_root
from apps.library import services


class Command(BaseCommand):
    help = "Scan the library folder for episode files (incremental; --full lists every folder again)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help="List every folder, not only changed ones.")
        parser.add_argument("--quiet-progress", action="store_true", help="Do not print progress lines.")

    def handle(self, *args, full: bool, quiet_progress: bool, **options) -> None:
        def progress(event: dict) -> None:
            if event["phase"] == "scanning" and not quiet_progress:
                self.stdout.write(f"  … {event['directories_visited']} folders, {event['files_seen']} files")

        self.stdout.write(f"Scanning {library_root()}{' (full)' if full else ''} …")
        try:
            run = services.scan_library(full=full, progress=progress)
        except services.ScanAlreadyRunning as exc:
            raise CommandError("A library scan is already running; try again when it has finished.") from exc
        stats = run.stats
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {stats['seconds']} s: {stats['directories_visited']} folders "
                f"({stats['directories_listed']} listed), {stats['files_seen']} files read, "
                f"{stats['episodes_found']} episode files found, {stats['episodes_lost']} gone, "
                f"{stats['unmatched_files']} files not placed."
            )
        )
        for problem in run.problems:
            self.stdout.write(self.style.WARNING(f"  ! {problem['path'] or '/'}: {problem['message']}"))
        if stats["unmatched_files"]:
            self.stdout.write("Files that could not be placed are listed in the admin (Unmatched files).")
