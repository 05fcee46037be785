"""API routes, mounted under /api/ by aniworld_site/urls.py."""

from django.urls import path

from apps.configuration import views

urlpatterns = [
    path("config", views.ConfigView.as_view(), name="config"),
    path("config/validate", views.ConfigValidateView.as_view(), name="config-validate"),
    path("config/naming-preview", views.NamingPreviewView.as_view(), name="config-naming-preview"),
    path("config/history", views.ConfigHistoryView.as_view(), name="config-history"),
    path("setup", views.SetupView.as_view(), name="config-setup"),
]
