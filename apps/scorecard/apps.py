from django.apps import AppConfig


class ScorecardConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.scorecard"
    label = "scorecard"
    verbose_name = "Hoster scorecard"
