from __future__ import annotations

from django.db import models
from django.db.models.functions import Length, Upper
from django.db.models.lookups import Exact


class Jurisdiction(models.Model):
    """A country or territory with its own legal system, by ISO 3166-1 alpha-2 code.

    Hong Kong (HK), Macao (MO) and Taiwan (TW) are jurisdictions of their own, as in ISO 3166-1.
    """

    code = models.CharField(primary_key=True, max_length=2)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("code"), 2) & Exact(Upper("code"), models.F("code")),
                name="jurisdiction_code_is_two_upper_letters",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
