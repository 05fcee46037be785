from django.urls import path

from apps.realtime.views import ConnectionStatusView

urlpatterns = [
    path("status", ConnectionStatusView.as_view(), name="ws-status"),
]
