from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("setup", views.SetupView.as_view(), name="auth-setup"),
    path("login", views.LoginView.as_view(), name="auth-login"),
    path("logout", views.LogoutView.as_view(), name="auth-logout"),
    path("status", views.StatusView.as_view(), name="auth-status"),
]
