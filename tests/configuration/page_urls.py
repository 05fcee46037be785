"""The project's URLs plus the configuration pages."""

from django.urls import include, path

from aniworld_site.urls import *  # noqa: F403  (handlers)
from aniworld_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("", include("apps.configuration.page_urls")), *site_urlpatterns]
