from django.urls import path

from apps.catalog.views import SearchCoverView, SearchView

urlpatterns = [
    path("", SearchView.as_view(), name="catalog-search"),  # GET /api/search
    path("/cover", SearchCoverView.as_view(), name="catalog-search-cover"),  # GET /api/search/cover?url=
]
