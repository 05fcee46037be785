"""``manage.py queue export [FILE]`` / ``manage.py queue import FILE``: the queue as JSON.

``import`` also reads the original AniWorld-Downloader ``download_queue.json``
(see :func:`apps.queue.services.parse_import_entry` for the mapping).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.queue import services
from apps.queue.errors import InvalidQueueRequest


class Command(BaseCommand):
    help = "Export the download queue to JSON, or import it (also from the original download_queue.json)."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="write the queue as JSON")
        export.add_argument("file", nargs="?", help="output file (default: standard output)")
        export.add_argument("--all", action="store_true", help="include completed and cancelled items")
        load = actions.add_parser("import", help="read a queue JSON file")
        load.add_argument("file", help="our export or the original download_queue.json ('-' = standard input)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            text = json.dumps(services.export_queue(include_finished=options["all"]), indent=2, ensure_ascii=False)
            if options["file"]:
                Path(options["file"]).write_text(text + "\n", encoding="utf-8")
                self.stderr.write(f"queue written to {options['file']}")
            else:
                self.stdout.write(text)
            return
        source = options["file"]
        try:
            raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
            document = json.loads(raw)
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{source} is not valid JSON: {exc}") from exc
        try:
            result = services.import_queue(document)
        except InvalidQueueRequest as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(
            f"{len(result['imported'])} of {result['entries']} entries imported, {len(result['skipped'])} skipped"
        )
        for skipped in result["skipped"]:
            self.stdout.write(f"  entry {skipped['entry']}: {skipped['reason']}")
