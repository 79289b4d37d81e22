"""The periodic jobs' runs: one row per job per scheduled slot, so that of two workers only one
runs a slot (the row is the claim), and an operator can see what ran when."""

from __future__ import annotations

from django.db import models


class JobRunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"


class JobRun(models.Model):
    job = models.CharField(max_length=64)
    slot_at = models.DateTimeField(help_text="The scheduled moment this run is for.")
    status = models.CharField(max_length=8, choices=JobRunStatus.choices)
    worker_id = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What the job did, or why it failed.")

    class Meta:
        ordering = ["-slot_at", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot_at"], name="job_run_once_per_slot"),
            models.CheckConstraint(
                condition=models.Q(status__in=JobRunStatus.values), name="job_run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot_at:%Y-%m-%d %H:%M}"
