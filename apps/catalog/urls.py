from django.urls import path

from apps.catalog.views import SearchView

urlpatterns = [
    path("", SearchView.as_view(), name="catalog-search"),  # GET /api/search
]
