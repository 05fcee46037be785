"""WebSocket routing. The realtime issue fills in the consumer for /ws/connect."""

from __future__ import annotations

from channels.routing import URLRouter

websocket_urlpatterns: list = []
websocket_application = URLRouter(websocket_urlpatterns)
