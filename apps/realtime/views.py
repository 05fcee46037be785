"""HTTP side of the realtime app: ``GET /ws/status``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aniworld_site.errors import ServiceUnavailable
from apps.realtime.selectors import RegistryUnavailable, connection_status


class ProcessStatusSerializer(serializers.Serializer):
    process_id = serializers.CharField(help_text="host-pid-random id of one web process")
    connections = serializers.IntegerField()
    rooms = serializers.DictField(child=serializers.IntegerField(), help_text="room → sockets in it")
    auth = serializers.DictField(child=serializers.IntegerField(), help_text="session / token → sockets")


class ConnectionStatusSerializer(serializers.Serializer):
    connections = serializers.IntegerField(help_text="open, authenticated sockets on all web processes")
    rooms = serializers.DictField(child=serializers.IntegerField(), help_text="room → sockets in it, all processes")
    processes = ProcessStatusSerializer(many=True)
    swept_processes = serializers.ListField(
        child=serializers.CharField(), help_text="dead web processes whose entries this request removed"
    )


class ConnectionStatusView(APIView):
    @extend_schema(
        tags=["realtime"],
        summary="WebSocket connections and room memberships across all web processes",
        responses={200: ConnectionStatusSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            status = connection_status()
        except RegistryUnavailable as error:
            raise ServiceUnavailable(f"The connection registry (Redis) is unavailable: {error}") from error
        return Response(ConnectionStatusSerializer(status).data)
