"""The SSRF rule: what Aniworld may fetch on behalf of a catalog page.

Catalog pages hand us redirect links that lead to hoster embed pages, and
hoster pages hand us further URLs. None of that is trusted:

* A hoster URL is fetched only when its host is one a resolver claims (its
  known domains, see ``apps.catalog.resolvers``) **and** every address the
  name resolves to is public (not private, loopback, link-local, reserved,
  multicast, shared or unspecified, IPv4 or IPv6, also IPv4-mapped).
  Every redirect hop is checked again before it is followed.
* A media URL a resolver returns (CDN hosts vary) needs no known domain but
  must be http(s) and resolve to public addresses only.
* Covers are fetched only from the configured catalog sites.
* Anything else raises :class:`HosterRefused` and is never fetched.

For tests and the offline demo the fake catalog site runs on 127.0.0.1; the
explicit allow-list ``ANIWORLD_CATALOG_ALLOWED_HOSTS`` (comma list of ``host``
or ``host:port``, empty by default) marks such hosts as trusted. An
allow-listed host passes both checks; because it proves nothing about which
hoster it is, the resolver is then chosen by the hoster name the catalog
showed for the link (its ``<h4>``). Nothing is allow-listed by default.

Known gap: the address check resolves the name before the HTTP client
resolves it again, so a DNS answer that changes in between (rebinding) is
not caught; the domain rule still limits this to hoster-controlled names.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from apps.catalog import conf
from apps.catalog.types import HosterError, HosterRefused


def split_host(url: str) -> tuple[str, str, int]:
    """(scheme, lower-case host, port) of an http(s) URL; HosterRefused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise HosterRefused(f"refused to fetch {url!r}: not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise HosterRefused(f"refused to fetch {url!r}: only http and https URLs are fetched")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise HosterRefused(f"refused to fetch {url!r}: the URL has no host")
    if parts.username or parts.password:
        raise HosterRefused(f"refused to fetch {url!r}: URLs with credentials are not fetched")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def is_allow_listed(url: str) -> bool:
    """True when the URL's host (or host:port) is in ANIWORLD_CATALOG_ALLOWED_HOSTS."""
    allowed = conf.allowed_hosts()
    if not allowed:
        return False
    _scheme, host, port = split_host(url)
    bracketed = f"[{host}]" if ":" in host else host
    return bool({host, bracketed, f"{bracketed}:{port}", f"{host}:{port}"} & allowed)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_public_address(url: str) -> None:
    """Refuse URLs whose host is, or resolves to, a non-public address."""
    _scheme, host, port = split_host(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise HosterError(f"cannot resolve the host of {url}: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not _is_public(address):
            raise HosterRefused(f"refused to fetch {url}: {host} is a private or local address ({address})")


def host_matches(host: str, domains: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def check_hoster_url(url: str, domains: tuple[str, ...], hoster: str) -> None:
    """Allow ``url`` only on one of ``domains`` (or the allow-list) and on public addresses."""
    if is_allow_listed(url):
        return
    _scheme, host, _port = split_host(url)
    if not host_matches(host, domains):
        raise HosterRefused(f"refused to fetch {url}: {host} is not a known {hoster} domain")
    check_public_address(url)


def check_media_url(url: str) -> None:
    """A media URL from a resolver: any public http(s) host, or an allow-listed one."""
    if is_allow_listed(url):
        return
    check_public_address(url)


def check_same_site(url: str, base_urls: list[str]) -> None:
    """Allow ``url`` only on the host of one of the configured catalog sites (covers, redirects)."""
    _scheme, host, port = split_host(url)
    for base in base_urls:
        _base_scheme, base_host, base_port = split_host(base)
        if host == base_host and port == base_port:
            return
    raise HosterRefused(f"refused to fetch {url}: it is not on a configured catalog site")
