"""WebSocket routing: ``/ws/connect``, behind the per-address limit, the send-buffer probe, the origin check
and the session/auth scope."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from apps.realtime.consumers import RealtimeConsumer
from apps.realtime.middleware import BrowserOriginValidator, ConnectionsPerAddressLimit, SendBufferProbe

websocket_urlpatterns = [
    path("ws/connect", RealtimeConsumer.as_asgi()),
]
websocket_application = ConnectionsPerAddressLimit(
    SendBufferProbe(BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))))
)
