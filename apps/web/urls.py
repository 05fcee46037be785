from django.urls import path

from apps.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("setup", views.setup_page, name="setup"),
    path("login", views.login_page, name="login"),
]
