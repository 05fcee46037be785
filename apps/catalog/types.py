"""The data the catalog hands to the rest of Aniworld (library, queue, workers).

Providers and resolvers fill these; nothing outside apps.catalog parses a
catalog page or a hoster. Keep this module free of Django imports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime


class Site(enum.StrEnum):
    ANIWORLD = "aniworld"  # aniworld.to, anime (has films/specials as season 0)
    STO = "sto"  # s.to / serienstream.to, series

    @property
    def label(self) -> str:
        return {"aniworld": "aniworld.to", "sto": "s.to"}[self.value]


class Language(enum.StrEnum):
    GERMAN_DUB = "de"  # aniworld lang key 1
    ENGLISH_SUB = "en-sub"  # key 2
    GERMAN_SUB = "de-sub"  # key 3
    ENGLISH_DUB = "en"  # key 4 (newer, uncertain)

    @property
    def label(self) -> str:
        return {
            "de": "German Dub",
            "en-sub": "English Sub",
            "de-sub": "German Sub",
            "en": "English Dub",
        }[self.value]


# (value, label) pairs for Django model fields and the OpenAPI schema.
SITE_CHOICES = [(site.value, site.label) for site in Site]
LANGUAGE_CHOICES = [(language.value, language.label) for language in Language]


class MediaKind(enum.StrEnum):
    HLS = "hls"
    FILE = "file"


@dataclass(frozen=True)
class SearchResult:
    site: Site
    slug: str
    title: str
    url: str
    year: int | None = None
    description: str = ""
    cover_url: str | None = None


@dataclass(frozen=True)
class SeriesDetails:
    site: Site
    slug: str
    title: str
    url: str
    alternative_titles: tuple[str, ...] = ()
    year_start: int | None = None
    year_end: int | None = None
    description: str = ""
    genres: tuple[str, ...] = ()
    cover_url: str | None = None
    imdb_id: str | None = None
    fsk: int | None = None
    rating: float | None = None
    seasons: tuple[int, ...] = ()  # season numbers; 0 = films/specials
    has_films: bool = False


@dataclass(frozen=True)
class EpisodeInfo:
    site: Site
    slug: str
    season: int  # 0 = films/specials
    number: int
    url: str
    title_de: str = ""
    title_en: str = ""
    languages: tuple[Language, ...] = ()


@dataclass(frozen=True)
class HosterLink:
    hoster: str  # e.g. "VOE", "Doodstream", "Vidoza"
    language: Language
    redirect_url: str  # absolute URL of /redirect/<id> on the catalog site
    link_id: str = ""


@dataclass(frozen=True)
class EpisodeSources:
    episode: EpisodeInfo
    languages: tuple[Language, ...]
    hosters: tuple[HosterLink, ...]


@dataclass(frozen=True)
class MediaSource:
    """What a hoster resolver found: a URL the download engine can fetch."""

    url: str
    kind: MediaKind
    hoster: str
    headers: dict[str, str] = field(default_factory=dict)
    height: int | None = None  # quality when known


class CatalogError(Exception):
    """Base for everything the catalog raises; the message says site, step and what to do."""

    permanent = False


class LayoutChanged(CatalogError):
    """A page did not have the structure we know ("site layout changed: <what>")."""

    permanent = True


class NotFoundOnSite(CatalogError):
    permanent = True


class SiteBlocking(CatalogError):
    """The site answered with a block (403, DDoS-Guard, captcha); retry after `retry_at`."""

    def __init__(self, message: str, retry_at: datetime):
        super().__init__(message)
        self.retry_at = retry_at

    def retry_after_seconds(self, now: datetime | None = None) -> int:
        """Whole seconds until ``retry_at`` (at least 1): the HTTP ``Retry-After`` value."""
        now = now or datetime.now(UTC)
        return max(1, int((self.retry_at - now).total_seconds() + 0.999))


class HosterError(CatalogError):
    """A hoster could not be resolved; try the next hoster or language."""


class HosterRefused(CatalogError):
    """A URL refused by the outbound policy (scheme, private address) or the hoster domain rule: never fetched."""

    permanent = True


class SiteUnavailable(CatalogError):
    """The site or hoster did not answer usefully (timeouts, 5xx) even after retries; try again later."""
