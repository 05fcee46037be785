"""manage.py restore <file>: replace settings, library records and queue with a backup's, all or nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.configuration.backup import BackupRefused, read_backup, restore_backup


class Command(BaseCommand):
    help = "Replace settings, library records and the download queue with those in a backup file (one transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A file written by `manage.py backup`.")

    def handle(self, *args, **options) -> None:
        try:
            counts = restore_backup(read_backup(options["file"]))
        except BackupRefused as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{count} {model}" for model, count in counts.items()) or "no records"
        self.stdout.write(self.style.SUCCESS(f"Restored from {options['file']}: {summary}."))
