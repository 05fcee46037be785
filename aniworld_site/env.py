"""Strict parsing of deployment settings from the environment (and `.env`).

django-environ reads the variables; these helpers refuse values that do not
clearly mean something, so a typo such as ``DEBUG=flase`` stops start-up with a
readable message instead of silently meaning "false".
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def parse_bool(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value; use one of: true, false, 1, 0, yes, no, on, off."
    )


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else parse_bool(name, raw)


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum of {maximum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None, above: float | None = None) -> float:
    """A number; ``minimum`` is allowed itself, ``above`` is not (``above=0`` for "positive")."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    if above is not None and value <= above:
        raise ImproperlyConfigured(f"{name}={value} must be more than {above}.")
    return value


def env_str(name: str, default: str) -> str:
    """A text value; unset or blank means ``default`` (surrounding spaces are dropped)."""
    raw = os.environ.get(name, "").strip()
    return raw or default


def env_path(name: str, default: Path) -> Path:
    """An absolute path (``~`` expanded, relative paths taken from the working directory)."""
    raw = os.environ.get(name, "").strip()
    return (Path(raw).expanduser() if raw else Path(default)).resolve()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_limits(name: str, *, minimum: int = 1, maximum: int | None = None) -> dict[str, int]:
    """Parse ``Name:N,Other:M`` into ``{"name": N, "other": M}`` (names lower-cased)."""
    limits: dict[str, int] = {}
    for part in env_list(name, []):
        key, separator, raw = part.partition(":")
        try:
            value = int(raw.strip()) if separator and key.strip() else None
        except ValueError:
            value = None
        if value is None:
            raise ImproperlyConfigured(f"{name}: {part!r} is not 'Name:number', e.g. VOE:1.")
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"{minimum}..{maximum}" if maximum is not None else f"at least {minimum}"
            raise ImproperlyConfigured(f"{name}: {part!r} is out of range ({bounds}).")
        limits[key.strip().lower()] = value
    return limits


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse a comma-separated list of IP addresses or CIDR networks."""
    networks = []
    for part in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name} contains {part!r}, which is not an IP address or network.") from None
    return networks


RATE_PERIODS = frozenset({"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"})


def env_rate(name: str, default: str) -> str:
    """A throttle rate as DRF reads it: ``<requests>/<period>``, period one of s, min, hour, day."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    count, _, period = raw.strip().partition("/")
    if not count.isdigit() or int(count) < 1 or period not in RATE_PERIODS:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write <requests>/<period> with a period of s, min, hour or day, "
            "e.g. 30/min."
        )
    return raw.strip()


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, default).strip().upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(sorted(choices))}.")
    return value


def load_or_create_secret_key(data_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else from `<data>/secret_key` (created once, mode 0600)."""
    from_env = os.environ.get("SECRET_KEY", "").strip()
    if from_env:
        return from_env
    return load_or_create_secret_file(data_dir / "secret_key")


def load_or_create_secret_file(path: Path) -> str:
    """A random secret kept in ``path`` (created once, mode 0600; an existing file is tightened to 0600)."""
    if path.exists():
        path.chmod(0o600)
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


NODE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def node_name() -> str:
    """``ANIWORLD_NODE_NAME`` (else the host name): names this node's workers in ids, heartbeats and logs.

    Letters, digits, dot, dash and underscore only, because the name becomes part of
    Celery node names (``aniworld@<name>-1-…``), download worker ids (``<name>:<pid>:…``)
    and Redis keys.
    """
    raw = os.environ.get("ANIWORLD_NODE_NAME", "").strip()
    if not raw:
        return socket.gethostname().split(".", 1)[0] or "localhost"
    if not NODE_NAME_PATTERN.fullmatch(raw):
        raise ImproperlyConfigured(
            f"ANIWORLD_NODE_NAME={raw!r} is not a node name: use up to 63 letters, digits, '.', '-' or '_'."
        )
    return raw
