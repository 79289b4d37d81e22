"""The response target of every request: added, filled in for existing requests with the
default policy's deadlines (an emergency within 4 hours, otherwise the agency's deadline or 30
days), then required."""

from datetime import timedelta

from django.db import migrations, models


def fill_in(apps, schema_editor):
    LegalRequest = apps.get_model("intake", "LegalRequest")
    for row in (
        LegalRequest.objects.filter(respond_by__isnull=True)
        .only("id", "kind", "received_at", "deadline_at")
        .iterator(chunk_size=2000)
    ):
        if row.kind == "EMERGENCY":
            target = row.received_at + timedelta(hours=4)
            if row.deadline_at is not None:
                target = min(target, row.deadline_at)
        else:
            target = row.deadline_at or row.received_at + timedelta(days=30)
        LegalRequest.objects.filter(pk=row.pk).update(respond_by=target)


class Migration(migrations.Migration):
    dependencies = [("intake", "0003_produced_delivered_preserved")]

    operations = [
        migrations.AddField(
            model_name="legalrequest",
            name="respond_by",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="legalrequest",
            name="respond_by",
            field=models.DateTimeField(
                help_text="The platform's response target, set on receipt from the policy's "
                "deadlines (review.deadlines)."
            ),
        ),
        migrations.AddIndex(
            model_name="legalrequest",
            index=models.Index(
                fields=["status", "respond_by"], name="intake_lega_status_114a7c_idx"
            ),
        ),
    ]
