"""Live checks behind ``POST /api/config/validate``: does the configuration work on this machine?"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from apps.configuration.defaults import field_label
from apps.configuration.models import Settings
from apps.configuration.validation import http_url_problem, naming_template_problems
from workers.engine.ffmpeg import find_ffmpeg


@dataclass
class LiveCheck:
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_library_path(path: str | Path, *, create: bool = False) -> LiveCheck:
    """The folder exists (or, with ``create``, can be made) and a file can be written in it."""
    root = Path(path)
    data: dict[str, Any] = {"path": str(root)}
    if create:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return LiveCheck(False, f"Cannot create {root}: {exc.strerror or exc}.", data)
    if not root.exists():
        return LiveCheck(False, f"{root} does not exist (create it, or mount the library there).", data)
    if not root.is_dir():
        return LiveCheck(False, f"{root} is not a folder.", data)
    try:
        with tempfile.NamedTemporaryFile(dir=root, prefix=".aniworld-write-test-"):
            pass
    except OSError as exc:
        return LiveCheck(False, f"Cannot write into {root}: {exc.strerror or exc} (check the owner/permissions).", data)
    with contextlib.suppress(OSError):
        data["free_bytes"] = shutil.disk_usage(root).free
    return LiveCheck(True, "exists and is writable", data)


def check_ffmpeg() -> LiveCheck:
    executable = find_ffmpeg()
    if not executable:
        return LiveCheck(False, "ffmpeg not found: install it (e.g. apt install ffmpeg) or the imageio-ffmpeg package.")
    try:
        result = subprocess.run([executable, "-version"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return LiveCheck(False, f"ffmpeg at {executable} does not run: {exc}.", {"path": executable})
    if result.returncode != 0:
        return LiveCheck(False, f"ffmpeg at {executable} exited with {result.returncode}.", {"path": executable})
    first_line = (result.stdout.splitlines() or [""])[0]
    return LiveCheck(True, first_line or "found", {"path": executable})


def check_naming_template(template: str) -> LiveCheck:
    problems, samples = naming_template_problems(template)
    if problems or samples is None:
        return LiveCheck(False, " ".join(problems))
    return LiveCheck(True, "renders", {"preview": samples["episode"], "film_preview": samples["film"]})


def check_provider_urls(urls: dict[str, str]) -> LiveCheck:
    problems = {site: problem for site, url in urls.items() if (problem := http_url_problem(url))}
    if problems:
        return LiveCheck(False, "; ".join(f"{site}: {problem}" for site, problem in problems.items()), {"urls": urls})
    return LiveCheck(True, "well formed", {"urls": urls})


def run_live_checks(candidate: Settings, library_path: str, errors: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Each live check; a check whose field failed validation reports that instead of running."""

    def unless_invalid(field_name: str, run: Any) -> LiveCheck:
        if field_name in errors:
            return LiveCheck(False, "Not checked: " + " ".join(errors[field_name]))
        return run()

    checks = {
        "library_path": unless_invalid("library_path", lambda: check_library_path(library_path)),
        "ffmpeg": check_ffmpeg(),
        "naming_template": unless_invalid("naming_template", lambda: check_naming_template(candidate.naming_template)),
        "provider_urls": unless_invalid("provider_urls", lambda: check_provider_urls(candidate.provider_urls)),
    }
    return {name: {**asdict(check), "label": field_label(name)} for name, check in checks.items()}
