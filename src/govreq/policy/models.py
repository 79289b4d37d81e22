from __future__ import annotations

from django.conf import settings
from django.db import models


class PolicyVersion(models.Model):
    """One immutable version of the review policy (see ``policy.document.PolicyDocument``)."""

    version = models.PositiveIntegerField(unique=True)
    document = models.JSONField()
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="policy_version_positive"
            )
        ]

    def __str__(self) -> str:
        return f"policy v{self.version}"
