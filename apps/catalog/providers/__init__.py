"""Catalog site providers, one per :class:`apps.catalog.types.Site`."""

from __future__ import annotations

from apps.catalog.providers.aniworld import AniworldProvider
from apps.catalog.providers.base import Provider
from apps.catalog.providers.sto import StoProvider
from apps.catalog.types import Site

PROVIDERS: dict[Site, Provider] = {Site.ANIWORLD: AniworldProvider(), Site.STO: StoProvider()}


def provider_for(site: Site) -> Provider:
    return PROVIDERS[Site(site)]
