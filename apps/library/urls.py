"""Mounted at ``api/anime`` by aniworld_site/urls.py (``POST /api/search/add`` is AddSeriesView, wired there)."""

from django.urls import path

from apps.library import views

urlpatterns = [
    path("", views.SeriesListView.as_view(), name="library-series-list"),
    path("/rescan", views.RescanView.as_view(), name="library-rescan"),
    path("/unmatched", views.UnmatchedFilesView.as_view(), name="library-unmatched"),
    path("/<int:pk>", views.SeriesDetailView.as_view(), name="library-series-detail"),
    path("/<int:pk>/refresh", views.SeriesRefreshView.as_view(), name="library-series-refresh"),
    path("/<int:pk>/download", views.SeriesDownloadView.as_view(), name="library-series-download"),
    path("/<int:pk>/cover", views.SeriesCoverView.as_view(), name="library-series-cover"),
    path("/<int:pk>/episodes/ignore", views.EpisodesIgnoreView.as_view(), name="library-episodes-ignore"),
    path("/<int:pk>/episodes/<int:episode_pk>/file", views.EpisodeFileView.as_view(), name="library-episode-file"),
    path(
        "/<int:pk>/episodes/<int:episode_pk>/sources",
        views.EpisodeSourcesView.as_view(),
        name="library-episode-sources",
    ),
]
