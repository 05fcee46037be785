"""`make test`: choose services, then run the suite in two phases and say what was skipped.

Phase 1 runs unit and API tests in parallel (pytest-xdist); phase 2 runs the
tests that start real processes (daphne, Celery, Redis, Chromium). A phase
that collects nothing (pytest exit 5) is reported, not treated as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.services import choose_services

NO_TESTS_COLLECTED = 5
PHASES = [
    ("unit and API tests", ["-m", "not integration and not browser", "-n", "2"]),
    ("integration and browser tests", ["-m", "integration or browser", "-n", "2", "--dist", "loadfile"]),
]


def main(extra: list[str]) -> int:
    print("== Aniworld test run")
    for line in choose_services():
        print(f"   {line}")
    failed = False
    for title, args in PHASES:
        print(f"\n== {title}", flush=True)
        code = subprocess.call([sys.executable, "-m", "pytest", *args, *extra], env=os.environ.copy())
        if code == NO_TESTS_COLLECTED:
            print(f"   ({title}: no tests collected)")
        elif code != 0:
            failed = True
    print("\n== result:", "FAILED" if failed else "passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
