"""WebSocket routing: ``/ws/connect``, behind the origin check, the session/auth scope and the send-buffer probe."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from apps.realtime.consumers import RealtimeConsumer
from apps.realtime.middleware import BrowserOriginValidator, SendBufferProbe

websocket_urlpatterns = [
    path("ws/connect", RealtimeConsumer.as_asgi()),
]
websocket_application = SendBufferProbe(BrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))))
