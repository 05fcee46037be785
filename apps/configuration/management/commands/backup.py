"""manage.py backup <file>: settings, library records and queue as one JSON file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from apps.configuration.backup import BACKUP_SCHEMA_VERSION, write_backup


class Command(BaseCommand):
    help = "Write settings, library records and the download queue to one JSON file (it contains secrets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path of the backup file to write (replaced if it exists).")

    def handle(self, *args, **options) -> None:
        counts = write_backup(options["file"])
        summary = ", ".join(f"{count} {model}" for model, count in counts.items()) or "no records"
        self.stdout.write(
            self.style.SUCCESS(f"Backup (schema {BACKUP_SCHEMA_VERSION}) written to {options['file']}: {summary}.")
        )
