from django.urls import path

from apps.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("library", views.library_page, name="library"),
    path("library/<int:series_id>", views.series_page, name="series"),
    path("search", views.search_page, name="search"),
    path("setup", views.setup_page, name="setup"),
    path("login", views.login_page, name="login"),
]
