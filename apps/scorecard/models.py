"""The hoster scorecard: what each hoster's recent download attempts gave, per catalog site.

Counters are kept per hour, hoster and outcome (one row each, incremented in
place) and rows older than the scoring window are deleted whenever a new hour
starts, so the table stays small: at most sites x hosters x outcomes x
:data:`apps.scorecard.scoring.WINDOW_HOURS` rows. Only
:mod:`apps.scorecard.services` writes them; :mod:`apps.scorecard.selectors`
aggregates them in the database.
"""

from __future__ import annotations

from django.db import models

from apps.catalog.types import SITE_CHOICES


class Outcome(models.TextChoices):
    SUCCESS = "success", "Downloaded"
    RESOLVE_FAILED = "resolve_failed", "The hoster's page gave no media (dead file, changed page, refused address)"
    DOWNLOAD_FAILED = "download_failed", "The transfer failed (server error, cut short, rate limited); retried"
    DOWNLOAD_PERMANENT = "download_permanent", "The hoster says the file is gone, or its address is refused"


FAILURES = tuple(outcome for outcome in Outcome if outcome != Outcome.SUCCESS)


class HosterOutcomeCount(models.Model):
    """Attempts with one hoster on one catalog site within one hour that ended in one outcome."""

    site = models.CharField(max_length=16, choices=SITE_CHOICES)
    hoster = models.CharField(max_length=40, help_text="The resolver's name when one handles it.")
    hour = models.BigIntegerField(help_text="Hours since 1970-01-01 00:00 UTC.")
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    attempts = models.PositiveIntegerField(default=0)
    ttfb_samples = models.PositiveIntegerField(default=0, help_text="Attempts that received a first byte.")
    ttfb_seconds = models.FloatField(default=0.0, help_text="Sum of the times to the first byte.")
    bytes_received = models.BigIntegerField(default=0)
    transfer_seconds = models.FloatField(default=0.0, help_text="Sum of the times spent receiving bytes_received.")
    last_attempt_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "hoster", "hour", "outcome"], name="scorecard_one_counter"),
            models.CheckConstraint(condition=models.Q(outcome__in=Outcome.values), name="scorecard_outcome_known"),
        ]
        indexes = [models.Index(fields=["hour"], name="scorecard_hour_idx")]

    def __str__(self) -> str:
        return f"{self.hoster} on {self.site}, hour {self.hour}: {self.attempts} x {self.outcome}"


class HosterConnectionRule(models.Model):
    """A hoster that refused parallel connections (HTTP 429/403 to parallel ranges): use one connection."""

    site = models.CharField(max_length=16, choices=SITE_CHOICES)
    hoster = models.CharField(max_length=40)
    single_connection_since = models.DateTimeField()
    refused_status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="What the hoster answered to parallel requests (429 or 403)."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "hoster"], name="scorecard_one_connection_rule")]

    def __str__(self) -> str:
        return f"{self.hoster} on {self.site}: one connection since {self.single_connection_since:%Y-%m-%d %H:%M}"
