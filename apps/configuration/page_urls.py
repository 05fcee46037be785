"""Page routes; the project urlconf includes them at the site root (``/settings``)."""

from django.urls import path

from apps.configuration import views

urlpatterns = [
    path("settings", views.settings_page, name="settings"),
]
