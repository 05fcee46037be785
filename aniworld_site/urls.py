from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from aniworld_site.errors import JsonErrorsMixin
from apps.catalog.views import SitesView
from apps.library.views import AddSeriesView
from apps.web.views import DashboardView, health


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    pass


handler400 = "aniworld_site.errors.bad_request"
handler403 = "aniworld_site.errors.permission_denied"
handler404 = "aniworld_site.errors.page_not_found"
handler500 = "aniworld_site.errors.server_error"

admin.site.site_header = "Aniworld administration"
admin.site.site_title = "Aniworld admin"

urlpatterns = [
    path("health", health, name="health"),
    path("api/auth/", include("apps.accounts.urls")),
    path("api/", include("apps.configuration.urls")),  # /api/config, /api/config/validate, /api/setup
    path("api/anime", include("apps.library.urls")),  # /api/anime, /api/anime/<id>/…
    path("api/search/add", AddSeriesView.as_view(), name="search-add"),  # the library owns series creation
    path("api/dashboard", DashboardView.as_view(), name="dashboard-overview"),
    path("api/catalog/sites", SitesView.as_view(), name="catalog-sites"),
    path("api/search", include("apps.catalog.urls")),  # /api/search (…/add is the library's, above)
    path("api/queue", include("apps.queue.urls")),  # /api/queue/…
    path("ws/", include("apps.realtime.urls")),  # GET /ws/status (the socket itself is in asgi.py)
    path("api/schema", SchemaView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The owner logs into the admin with the same password, through the one login page.
    path("admin/login/", RedirectView.as_view(url="/login", query_string=True), name="admin-login"),
    path("admin/", admin.site.urls),
    # Pages: each app serves its own from pages.py (views and routes together).
    path("", include("apps.web.pages")),  # /, /favicon.ico
    path("", include("apps.accounts.pages")),  # /setup, /login
    path("", include("apps.library.pages")),  # /library, /library/<id>
    path("", include("apps.catalog.pages")),  # /search
    path("", include("apps.configuration.pages")),  # /settings
]
