"""`make test`: choose services, then run the suite in two phases and say what was skipped.

Phase 1 runs unit and API tests in parallel (pytest-xdist); phase 2 runs the
tests that start real processes (daphne, Celery, Redis, Chromium), the fault
tests among them. ``--faults`` (`make test-faults`) runs only the fault tests. A phase
that collects nothing (pytest exit 5) is reported, not treated as a failure.
The last line adds both phases up: ``tests: N passed, N failed, N skipped``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from tests.services import choose_services

NO_TESTS_COLLECTED = 5
PHASES = [
    ("unit and API tests", ["-m", "not integration and not browser and not faults", "-n", "2"]),
    (
        "integration, fault and browser tests",
        ["-m", "integration or browser or faults", "-n", "2", "--dist", "loadfile"],
    ),
]
# `make test-faults`: only the fault tests, one at a time, their printed timings shown as they run.
FAULT_PHASES = [("fault tests", ["-m", "faults", "-n", "0", "-s"])]


def count_outcomes(junit_xml: Path) -> Counter:
    counts: Counter = Counter()
    if not junit_xml.exists():
        return counts
    for case in ET.parse(junit_xml).getroot().iter("testcase"):  # noqa: S314  (pytest wrote it just now)
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        counts[outcome] += 1
    return counts


def main(extra: list[str]) -> int:
    phases = PHASES
    if "--faults" in extra:
        extra = [arg for arg in extra if arg != "--faults"]
        phases = FAULT_PHASES
    print("== Aniworld test run")
    for line in choose_services():
        print(f"   {line}")
    failed = False
    totals: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="aniworld-junit-") as junit_dir:
        for index, (title, args) in enumerate(phases):
            print(f"\n== {title}", flush=True)
            junit = Path(junit_dir) / f"phase{index}.xml"
            command = [sys.executable, "-m", "pytest", *args, f"--junitxml={junit}", *extra]
            # Importing aniworld_site (to start an embedded Redis) sets DJANGO_SETTINGS_MODULE to the
            # production settings in this process; the suite must run on tests.settings.
            code = subprocess.call(command, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"})
            if code == NO_TESTS_COLLECTED:
                print(f"   ({title}: no tests collected)")
            elif code != 0:
                failed = True
            totals += count_outcomes(junit)
    if failed and not totals["failed"]:
        totals["failed"] += 1  # a phase crashed before reporting its tests
    print("\n== result:", "FAILED" if failed else "passed")
    print(f"tests: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
