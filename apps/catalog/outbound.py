"""The outbound-request policy: where any fetch Aniworld makes on behalf of a catalog page may connect.

One rule for catalog pages, search, covers, hoster embeds, media files, HLS
playlists and segments (the download engine imports this module too, so it
uses only the standard library and :mod:`apps.catalog.types`, never Django):

* only ``http`` and ``https`` URLs, without credentials in the URL;
* every address the host name resolves to must be public: private, loopback,
  link-local (cloud metadata 169.254.169.254 included), shared, reserved,
  multicast and unspecified addresses are refused, IPv4 and IPv6 (also
  IPv4-mapped);
* the check is made again on the address a connection is really made to
  (:meth:`OutboundPolicy.check_connected`), so a DNS answer that changes
  between the check and the connect cannot lead inside;
* every redirect hop is a new URL and goes through the same rule (the HTTP
  clients never follow redirects on their own).

``allowed_hosts`` (``host`` or ``host:port``, lower case) are trusted on any
address: the fake catalog site of the tests and the offline demo run on
127.0.0.1. Callers pass the configured list in as a value.

Not covered here: URLs the owner typed in (Jellyfin, Plex, Apprise
notification targets). They are meant to reach the owner's own network and
are not subject to this rule.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from apps.catalog.types import HosterError, HosterRefused

ALLOWED_SCHEMES = ("http", "https")
MAX_REDIRECTS = 6
# libcurl's own protocol restriction, for curl_cffi (CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR).
CURL_PROTOCOLS = ",".join(ALLOWED_SCHEMES)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def split_host(url: str) -> tuple[str, str, int]:
    """(scheme, lower-case host, port) of an http(s) URL; HosterRefused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise HosterRefused(f"refused to fetch {url!r}: not a valid URL") from exc
    if parts.scheme not in ALLOWED_SCHEMES:
        raise HosterRefused(f"refused to fetch {url!r}: only http and https URLs are fetched")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise HosterRefused(f"refused to fetch {url!r}: the URL has no host")
    if parts.username or parts.password:
        raise HosterRefused(f"refused to fetch {url!r}: URLs with credentials are not fetched")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def parse_address(value: str) -> IPAddress | None:
    """An IP address from a literal (brackets and IPv6 zone ids allowed), or None for a name."""
    try:
        return ipaddress.ip_address(value.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast; IPv4-mapped IPv6 addresses are judged by their IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (the literal itself for an IP); HosterError when it does not resolve."""
    literal = parse_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HosterError(f"cannot resolve the host {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = parse_address(str(info[4][0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HosterError(f"cannot resolve the host {host}: no address")
    return addresses


def allow_list(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(entry.strip().lower() for entry in entries if entry.strip())


@dataclass(frozen=True)
class OutboundPolicy:
    """The rule with its allow-list (``host`` or ``host:port`` entries; empty: nothing is trusted)."""

    allowed_hosts: frozenset[str] = frozenset()

    def host_allow_listed(self, host: str, port: int) -> bool:
        if not self.allowed_hosts:
            return False
        host = host.lower().strip("[]").rstrip(".")
        bracketed = f"[{host}]" if ":" in host else host
        return bool({host, bracketed, f"{bracketed}:{port}", f"{host}:{port}"} & self.allowed_hosts)

    def is_allow_listed(self, url: str) -> bool:
        _scheme, host, port = split_host(url)
        return self.host_allow_listed(host, port)

    def check_url(self, url: str) -> list[IPAddress]:
        """Refuse ``url`` unless it is http(s) and its host is allow-listed or resolves to public addresses only.

        Returns the checked addresses (empty for an allow-listed host) so a client can connect to exactly those.
        """
        _scheme, host, port = split_host(url)
        if self.host_allow_listed(host, port):
            return []
        try:
            addresses = resolve(host, port)
        except HosterError as exc:
            raise HosterError(f"cannot resolve the host of {url}: {exc.__cause__ or exc}") from exc
        for address in addresses:
            if not is_public(address):
                raise HosterRefused(f"refused to fetch {url}: {host} is a private or local address ({address})")
        return addresses

    def check_connected(self, host: str, port: int, address: str | IPAddress) -> None:
        """Refuse a connection to ``host`` that reached (or is about to reach) a non-public ``address``."""
        if self.host_allow_listed(host, port):
            return
        parsed = address if isinstance(address, IPAddress) else parse_address(str(address))
        if parsed is None or not is_public(parsed):
            raise HosterRefused(
                f"refused to fetch from {host}:{port}: the connection goes to a private or local address ({address})"
            )


def curl_resolve_entry(host: str, port: int, addresses: list[IPAddress]) -> str:
    """A CURLOPT_RESOLVE entry pinning ``host:port`` to the checked addresses."""
    listed = ",".join(f"[{address}]" if address.version == 6 else str(address) for address in addresses)
    return f"{host}:{port}:{listed}"
