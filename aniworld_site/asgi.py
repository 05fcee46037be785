"""ASGI entry point: HTTP goes to Django, WebSockets under /ws/ to Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aniworld_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from aniworld_site.limits import RequestBodyLimit  # noqa: E402
from apps.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": RequestBodyLimit(django_asgi_app), "websocket": websocket_application})
