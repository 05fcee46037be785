"""The browser tests cannot silently vanish: `make browser` installs or names Chromium, and CI fails a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SKIPPING_BROWSER_TEST = """
import pytest

@pytest.mark.browser
def test_needs_a_browser():
    pytest.skip("no Chromium here")

def test_plain():
    pytest.skip("not a browser test")
"""


def run_pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SKIPPING_BROWSER_TEST)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        os.devnull,
        "--rootdir",
        str(tmp_path),
        "-p",
        "tests.browser.fixtures",
    ]
    command += ["-p", "no:cacheprovider", "-o", "markers=browser", "-q", str(tmp_path / "test_sample.py")]
    environment = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_a_skipped_browser_test_fails_under_ci(tmp_path):
    result = run_pytest(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "1 skipped" in result.stdout  # only the browser test counts
    assert "a browser test may not skip under CI=true: Skipped: no Chromium here" in result.stdout


def test_a_skipped_browser_test_only_skips_outside_ci(tmp_path):
    result = run_pytest(tmp_path, ci="false")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout


@pytest.mark.skipif(not Path("/usr/bin/make").exists(), reason="needs make")
def test_make_browser_names_the_install_command_when_it_cannot_install(tmp_path):
    fake_id = tmp_path / "id"  # an ordinary user: `make browser` may not run apt-get
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    environment = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    command = ["make", "--no-print-directory", "browser", f"CHROMIUM={tmp_path / 'no-chromium'}"]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "apt-get install chromium" in result.stdout


def test_make_test_sets_up_the_browser_first():
    makefile = (ROOT / "Makefile").read_text()
    assert "\ntest: venv browser\n" in makefile
