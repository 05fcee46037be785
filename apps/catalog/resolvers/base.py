"""What every hoster resolver shares: the interface and a guarded fetch session."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from apps.catalog.http import CatalogHttpClient, Page, get_client, origin
from apps.catalog.safety import check_hoster_url, check_media_url
from apps.catalog.types import HosterError, MediaKind, MediaSource, SiteBlocking, SiteUnavailable

DEAD_FILE_MARKERS = (
    "file not found",
    "file was deleted",
    "file is no longer available",
    "video not found",
    "the file you are looking for",
    "this video has been removed",
    "datei wurde gelöscht",
)


@dataclass(frozen=True)
class Sample:
    """One embed-page form a resolver handles, as yt-dlp extractors list their ``_TESTS``.

    The fake catalog site serves every sample (``variant`` selects the page form; its
    templates are ``tests/fakesite/pages/embed_*.html``) and the resolver tests run each
    one through the full path catalog link -> embed page -> media, expecting ``kind``
    and ``height``. ``referer_required``: the media answers 403 without the resolver's headers.
    """

    kind: MediaKind
    variant: str = ""
    height: int | None = None
    referer_required: bool = False
    note: str = ""


class Resolver(ABC):
    """Turns one hoster's embed URL into a :class:`MediaSource`.

    Adding a hoster: one module with a subclass, one line in the registry
    (``apps.catalog.resolvers.RESOLVERS``) and one fake embed page.
    """

    name: str  # as the catalog shows it in <h4>, e.g. "VOE"
    aliases: tuple[str, ...] = ()  # other spellings of the name, lower case
    domains: tuple[str, ...] = ()  # hosts this resolver may fetch from (subdomains included)
    default_rank: int  # position in the default hoster order (lower is tried first)
    samples: tuple[Sample, ...]  # the page forms this resolver reads (see Sample)

    def matches_name(self, hoster_name: str) -> bool:
        wanted = re.sub(r"[^a-z0-9]", "", hoster_name.lower())
        return wanted in {re.sub(r"[^a-z0-9]", "", n.lower()) for n in (self.name, *self.aliases)}

    @abstractmethod
    def resolve(self, embed_url: str, session: HosterSession) -> MediaSource: ...


class HosterSession:
    """Fetches for one resolution: only this hoster's hosts (or allow-listed ones), public addresses, every hop checked."""

    def __init__(self, resolver: Resolver, client: CatalogHttpClient | None = None):
        self.resolver = resolver
        self.client = client or get_client()

    @property
    def name(self) -> str:
        return self.resolver.name

    def error(self, step: str, reason: str) -> HosterError:
        return HosterError(f"{self.name}: {step}: {reason}")

    def get(
        self,
        url: str,
        *,
        step: str,
        headers: dict[str, str] | None = None,
        any_public_host: bool = False,
        method: str = "GET",
        data: object = None,
    ) -> Page:
        """Fetch ``url``; ``any_public_host`` relaxes the domain rule (not the address rule) for known hops."""

        def guard(target: str) -> None:
            if any_public_host:
                check_media_url(target)
            else:
                check_hoster_url(target, self.resolver.domains, self.name)

        try:
            page = self.client.fetch(
                url,
                bucket=f"hoster:{self.name}",
                method=method,
                data=data,
                headers=headers,
                guard=guard,
                label=self.name,
            )
        except SiteBlocking as exc:
            raise self.error(step, f"the hoster shows a block or captcha ({exc})") from exc
        except SiteUnavailable as exc:
            raise self.error(step, str(exc)) from exc
        if page.status in (404, 410):
            raise self.error(step, f"the file is gone (HTTP {page.status} at {url})")
        if page.status >= 400:
            raise self.error(step, f"HTTP {page.status} at {url}")
        return page

    def page_text(self, url: str, *, step: str, headers: dict[str, str] | None = None, **kwargs) -> tuple[Page, str]:
        page = self.get(url, step=step, headers=headers, **kwargs)
        text = page.text
        lowered = text[:20000].lower()
        if any(marker in lowered for marker in DEAD_FILE_MARKERS) and len(text) < 20000:
            raise self.error(step, f"the hoster says the file no longer exists ({url})")
        return page, text

    def referer_headers(self, page_url: str) -> dict[str, str]:
        return {"Referer": origin(page_url) + "/"}
