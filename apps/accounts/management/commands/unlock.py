"""``manage.py unlock [ADDRESS ...]``: lift login lockouts (all of them, or those of some addresses)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.accounts import services


class Command(BaseCommand):
    help = (
        "Lift login lockouts: every address, browser and the global pause, or only the given addresses "
        "(an IPv6 address unlocks its /64)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("addresses", nargs="*", help="Client addresses to unlock (default: everything).")

    def handle(self, *args, addresses: list[str], **options) -> None:
        cleared = services.unlock(addresses or None)
        scope = ", ".join(services.address_key(address) for address in addresses) if addresses else "everyone"
        self.stdout.write(f"Cleared {cleared} lockout counter(s) for {scope}; logins may be tried again.")
