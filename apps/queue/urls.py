"""Mounted at ``api/queue`` (so every path here starts with "/")."""

from django.urls import path

from apps.queue import views

urlpatterns = [
    path("/status", views.StatusView.as_view(), name="queue-status"),
    path("/stats", views.StatsView.as_view(), name="queue-stats"),
    path("/workers", views.WorkersView.as_view(), name="queue-workers"),
    path("/add", views.AddView.as_view(), name="queue-add"),
    path("/start", views.StartView.as_view(), name="queue-start"),
    path("/stop", views.StopView.as_view(), name="queue-stop"),
    path("/pause", views.PauseView.as_view(), name="queue-pause"),
    path("/resume", views.ResumeView.as_view(), name="queue-resume"),
    path("/reorder", views.ReorderView.as_view(), name="queue-reorder"),
    path("/completed", views.ClearCompletedView.as_view(), name="queue-clear-completed"),
    path("/retry", views.RetryView.as_view(), name="queue-retry"),
    path("/sites/<str:site>/try-now", views.TryNowView.as_view(), name="queue-site-try-now"),
    path("/<int:pk>", views.ItemView.as_view(), name="queue-item"),
    path("/<int:pk>/priority", views.PriorityView.as_view(), name="queue-item-priority"),
    path("/<int:pk>/pause", views.HoldView.as_view(), name="queue-item-hold"),
    path("/<int:pk>/resume", views.ReleaseView.as_view(), name="queue-item-release"),
    path("/", views.BatchRemoveView.as_view(), name="queue-remove-batch"),
]
