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

The address rule itself is :mod:`apps.catalog.outbound`, shared by every
fetch (the catalog HTTP client applies it to every request and redirect hop,
and checks the address it really connected to; the download engine applies it
to every request yt-dlp makes). This module adds the catalog-specific rules
(hoster domains, same site) and reads the allow-list from the configuration.
"""

from __future__ import annotations

from apps.catalog import conf
from apps.catalog.outbound import OutboundPolicy, allow_list, split_host
from apps.catalog.types import HosterRefused

__all__ = [
    "check_hoster_url",
    "check_media_url",
    "check_public_address",
    "current_policy",
    "host_matches",
    "is_allow_listed",
    "split_host",
]


def current_policy() -> OutboundPolicy:
    """The outbound policy with the configured allow-list (read on every call: tests change it)."""
    return OutboundPolicy(allow_list(conf.allowed_hosts()))


def is_allow_listed(url: str) -> bool:
    """True when the URL's host (or host:port) is in ANIWORLD_CATALOG_ALLOWED_HOSTS."""
    return current_policy().is_allow_listed(url)


def check_public_address(url: str) -> None:
    """Refuse URLs whose host is, or resolves to, a non-public address (the allow-list does not apply)."""
    OutboundPolicy().check_url(url)


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
    current_policy().check_url(url)
