"""The fake catalog's content: series, seasons, films, episodes, languages and hoster links.

Deterministic, so tests can name what they expect: link ids count up in build
order, every episode offers each language it has on six hosters, some links
are dead, and one series has a hostile title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.catalog.resolvers import RESOLVERS, resolver_by_name
from apps.catalog.types import Language, Site

# Path separators, "..", control characters, bidi override, emoji, HTML/JS, and > 300 characters.
HOSTILE_TITLE = (
    '../../etc/passwd \\..\\Windows\\ C:\\ CON <script>alert("pwned")</script> '
    "<img src=x onerror=alert(1)> \x07\x1b[31m\u202eevil\u202c 🎌🔥👾 "
    "&amp; \"quotes\" 'single' | * ? : " + "Very Long Name " * 20
)
HOSTILE_EPISODE_TITLES = ("../../../tmp/escape", "<b>bold</b> \x00\x08 /slash\\back 🙃" + "x" * 300)

# Every registered hoster is offered; each episode number shows the next of its resolver's sample forms.
HOSTER_NAMES = tuple(resolver.name for resolver in RESOLVERS)
HOSTER_PATHS = {
    "VOE": "voe",
    "Vidoza": "vidoza",
    "Doodstream": "dood",
    "Vidmoly": "vidmoly",
    "Filemoon": "filemoon",
    "Streamtape": "streamtape",
    "SpeedFiles": "speedfiles",
    "Luluvdo": "luluvdo",
    "LoadX": "loadx",
    "Vidara": "vidara",
    "GUpload": "gupload",
}
# aniworld.to language keys and flags
LANGUAGE_KEY = {
    Language.GERMAN_DUB: "1",
    Language.ENGLISH_SUB: "2",
    Language.GERMAN_SUB: "3",
    Language.ENGLISH_DUB: "4",
}
STO_LANGUAGE_KEY = {Language.GERMAN_DUB: "1", Language.ENGLISH_DUB: "2", Language.GERMAN_SUB: "3"}
LANGUAGE_FLAG = {
    Language.GERMAN_DUB: ("german.svg", "Deutsch"),
    Language.ENGLISH_SUB: ("japanese-english.svg", "mit Untertitel Englisch"),
    Language.GERMAN_SUB: ("japanese-german.svg", "mit Untertitel Deutsch"),
    Language.ENGLISH_DUB: ("english.svg", "Englisch"),
}
# s.to's current layout: flag names (svg-flag-<name>) and button labels
STO_FLAG_NAME = {Language.GERMAN_DUB: "german", Language.ENGLISH_DUB: "english", Language.GERMAN_SUB: "english-german"}
STO_LANGUAGE_LABEL = {Language.GERMAN_DUB: "Deutsch", Language.ENGLISH_DUB: "Englisch", Language.GERMAN_SUB: "Ger-Sub"}
STO_LANGUAGE_FLAG = {
    Language.GERMAN_DUB: ("german.svg", "Deutsch"),
    Language.ENGLISH_DUB: ("english.svg", "Englisch"),
    Language.GERMAN_SUB: ("english-german.svg", "mit Untertitel Deutsch"),
}


@dataclass
class FakeLink:
    link_id: int
    hoster: str
    language: Language
    variant: str = ""  # the resolver sample's page form, e.g. "legacy" (VOE) or "packed" (Filemoon)
    dead: bool = False  # the embed page answers 404 "file was deleted"

    @property
    def code(self) -> str:
        return f"{HOSTER_PATHS[self.hoster]}{self.link_id:05d}{self.variant[:1]}"

    @property
    def token(self) -> str:
        return f"tok{self.link_id}"


@dataclass
class FakeEpisode:
    season: int
    number: int
    title_de: str
    title_en: str
    links: list[FakeLink] = field(default_factory=list)
    episode_id: int = 0

    @property
    def languages(self) -> list[Language]:
        return list(dict.fromkeys(link.language for link in self.links))


@dataclass
class FakeSeries:
    site: Site
    slug: str
    title: str
    alternative_titles: list[str]
    year_start: int
    year_end: int | None
    description: str
    genres: list[str]
    fsk: int
    imdb_id: str
    rating: float
    seasons: dict[int, list[FakeEpisode]] = field(default_factory=dict)  # 0 = films

    @property
    def season_numbers(self) -> list[int]:
        return sorted(n for n in self.seasons if n > 0)

    @property
    def has_films(self) -> bool:
        return 0 in self.seasons

    def episode(self, season: int, number: int) -> FakeEpisode | None:
        return next((e for e in self.seasons.get(season, []) if e.number == number), None)


@dataclass
class FakeCatalog:
    series: list[FakeSeries]
    links: dict[int, FakeLink]

    def find(self, site: Site, slug: str) -> FakeSeries | None:
        return next((s for s in self.series if s.site == site and s.slug == slug), None)

    def of_site(self, site: Site) -> list[FakeSeries]:
        return [s for s in self.series if s.site == site]

    def link_by_code(self, code: str) -> FakeLink | None:
        return next((link for link in self.links.values() if link.code == code), None)


def sample_variant(hoster: str, number: int) -> str:
    """The page form episode ``number`` shows for ``hoster``: its resolver's samples in turn."""
    samples = resolver_by_name(hoster).samples
    return samples[(number - 1) % len(samples)].variant


class _Builder:
    def __init__(self) -> None:
        self.next_link = 1001
        self.next_episode = 501
        self.links: dict[int, FakeLink] = {}

    def episode(self, season: int, number: int, title_de: str, title_en: str, languages: list[Language]) -> FakeEpisode:
        episode = FakeEpisode(season, number, title_de, title_en, episode_id=self.next_episode)
        self.next_episode += 1
        for language in languages:
            for hoster in HOSTER_NAMES:
                variant = sample_variant(hoster, number)
                link = FakeLink(self.next_link, hoster, language, variant, dead=hoster == "Streamtape" and number % 2)
                self.links[link.link_id] = link
                episode.links.append(link)
                self.next_link += 1
        return episode


def build_catalog() -> FakeCatalog:
    b = _Builder()
    de, de_sub, en_sub, en = Language.GERMAN_DUB, Language.GERMAN_SUB, Language.ENGLISH_SUB, Language.ENGLISH_DUB
    moonlit = FakeSeries(
        site=Site.ANIWORLD,
        slug="moonlit-blade",
        title="Moonlit Blade",
        alternative_titles=["Gekkou no Tsurugi", "月光の剣"],
        year_start=2019,
        year_end=2022,
        description="A swordswoman follows the moon across a broken empire. Tom & Jerry never met her.",
        genres=["Action", "Fantasy", "Abenteuer"],
        fsk=12,
        imdb_id="tt1234567",
        rating=4.5,
        seasons={
            1: [
                b.episode(1, 1, "Der erste Schnitt", "The First Cut", [de, de_sub, en_sub]),
                b.episode(1, 2, "Mondlicht & Stahl", "Moonlight & Steel", [de_sub]),
                b.episode(1, 3, "", "Silent Night", [de_sub, en_sub]),
            ],
            2: [
                b.episode(2, 1, "Rückkehr", "Return", [de, de_sub]),
                b.episode(2, 2, "Abschied", "", [de_sub]),
            ],
            0: [
                b.episode(0, 1, "Der Film: Neumond", "The Movie: New Moon", [de, de_sub]),
                b.episode(0, 2, "OVA: Sonnenfinsternis", "OVA: Eclipse", [de_sub]),
            ],
        },
    )
    spirit = FakeSeries(
        site=Site.ANIWORLD,
        slug="spirit-and-steel",
        title="Spirit & Steel",
        alternative_titles=["Tamashii to Hagane"],
        year_start=2024,
        year_end=None,
        description="Mechs and ghosts. Still running.",
        genres=["Mecha"],
        fsk=16,
        imdb_id="tt7654321",
        rating=3.9,
        seasons={
            1: [
                b.episode(1, 1, 'Anfang: "Geist" & <Stahl>', "The Pilot's Beginning", [de_sub, en_sub]),
                b.episode(1, 2, "Ende", "", [de]),
            ]
        },
    )
    hostile = FakeSeries(
        site=Site.ANIWORLD,
        slug="hostile-title",
        title=HOSTILE_TITLE,
        alternative_titles=["../evil", "<script>x</script>"],
        year_start=2020,
        year_end=2020,
        description="<b>Bold</b> description with <script>alert(1)</script>.",
        genres=["../Genre"],
        fsk=0,
        imdb_id="tt0000001",
        rating=1.0,
        seasons={
            1: [
                b.episode(1, 1, HOSTILE_EPISODE_TITLES[0], HOSTILE_EPISODE_TITLES[1], [de_sub]),
                b.episode(1, 2, HOSTILE_EPISODE_TITLES[1], HOSTILE_EPISODE_TITLES[0], [de_sub]),
            ]
        },
    )
    harbor = FakeSeries(
        site=Site.STO,
        slug="harbor-lights",
        title="Harbor Lights",
        alternative_titles=["Hafenlichter"],
        year_start=2015,
        year_end=2018,
        description="Lighthouse keepers and their secrets.",
        genres=["Drama", "Mystery"],
        fsk=12,
        imdb_id="tt2222222",
        rating=4.1,
        seasons={
            1: [
                b.episode(1, 1, "Pilot", "Pilot", [de, en]),
                b.episode(1, 2, "Nebel", "Fog", [de]),
                b.episode(1, 3, "Sturm", "Storm", [en, de_sub]),
            ],
            2: [b.episode(2, 1, "Neue Lichter", "New Lights", [de, en])],
        },
    )
    # Like s.to's /serie/18if: English dub and German subtitles only, an entity in the title.
    beyond = FakeSeries(
        site=Site.STO,
        slug="from-and-beyond",
        title="From & Beyond",
        alternative_titles=["Fernlichter"],
        year_start=2022,
        year_end=None,
        description="A town nobody leaves. „Quoted“ & <tagged>.",
        genres=["Horror"],
        fsk=16,
        imdb_id="tt9813792",
        rating=4.0,
        seasons={1: [b.episode(1, 1, "Lang lebe die Neue Fleisch", "Long Live the New Flesh", [en, de_sub])]},
    )
    return FakeCatalog([moonlit, spirit, hostile, harbor, beyond], b.links)
