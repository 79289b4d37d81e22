"""Reminders did not exist before this version: requests already past their reminder time (or
emergencies already waiting) when it is installed are marked as reminded, with nobody named, so
that the first run of the worker does not mail every reviewer about every old open request.
They show in the Overdue inbox all the same."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

RESPONDING = ["RECEIVED", "IN_REVIEW", "ESCALATED", "DECIDED", "APPROVED"]


def mark_old(apps, schema_editor):
    LegalRequest = apps.get_model("intake", "LegalRequest")
    DeadlineAlert = apps.get_model("review", "DeadlineAlert")
    now = timezone.now()
    old = LegalRequest.objects.filter(status__in=RESPONDING)
    due = old.filter(respond_by__lte=now + timedelta(hours=48)).values_list("pk", flat=True)
    DeadlineAlert.objects.bulk_create(
        [DeadlineAlert(request_id=pk, kind="DUE_SOON", recipients=[], sent_at=now) for pk in due],
        batch_size=1000,
        ignore_conflicts=True,
    )
    waiting = old.filter(
        kind="EMERGENCY", assigned_to__isnull=True, received_at__lte=now - timedelta(minutes=15)
    ).values_list("pk", flat=True)
    DeadlineAlert.objects.bulk_create(
        [
            DeadlineAlert(request_id=pk, kind="EMERGENCY_UNTAKEN", recipients=[], sent_at=now)
            for pk in waiting
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0004_legalrequest_respond_by"),
        ("review", "0004_deadline_alerts"),
    ]

    operations = [migrations.RunPython(mark_old, migrations.RunPython.noop)]
