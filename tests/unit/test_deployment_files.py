"""compose.yaml and compose.worker.yaml describe a working cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLUSTER_ENV = {"SECRET_KEY": "s", "REDIS_PASSWORD": "r", "MAIN_HOST": "10.0.0.2", "ANIWORLD_LIBRARY": "/mnt/anime"}


def _compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.parametrize("compose_file", ["compose.yaml", "compose.worker.yaml"])
def test_compose_config_accepts_the_file(compose_file):
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed; structure is checked below")
    result = subprocess.run(
        [*command, "-f", compose_file, "config", "-q"],
        cwd=PROJECT_DIR,
        env={**os.environ, **CLUSTER_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_cluster_has_every_role_sharing_the_library():
    compose = yaml.safe_load((PROJECT_DIR / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "redis", "postgres"}
    for role in ("web", "worker", "beat"):
        assert services[role]["command"] == [role]
        assert any(str(volume).endswith(":/library") for volume in services[role]["volumes"])
    assert "ports" not in services["worker"]  # workers scale: nothing to publish


def test_remote_worker_joins_the_main_host():
    worker = yaml.safe_load((PROJECT_DIR / "compose.worker.yaml").read_text())["services"]["worker"]
    assert "MAIN_HOST" in worker["environment"]["DATABASE_URL"]
    assert "MAIN_HOST" in worker["environment"]["REDIS_URL"]
    assert any(str(volume).endswith(":/library") for volume in worker["volumes"])


def test_compose_redis_requires_its_password_and_has_no_config_command():
    compose = yaml.safe_load((PROJECT_DIR / "compose.yaml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")
    assert command[command.index("--rename-command") + 1 : command.index("--rename-command") + 3] == ["CONFIG", ""]
    for role in ("web", "worker", "beat"):
        assert "${REDIS_PASSWORD:?" in str(compose["services"][role].get("environment", {}).get("REDIS_URL", ""))
