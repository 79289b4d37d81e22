"""Each request's target count, stored (and filled in for existing requests by one UPDATE), and
indexes matching the lists' orders and the transparency report's look-ups."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill_in(apps, schema_editor):
    LegalRequest = apps.get_model("intake", "LegalRequest")
    Target = apps.get_model("intake", "Target")
    counted = (
        Target.objects.filter(request=OuterRef("pk"))
        .order_by()
        .values("request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    LegalRequest.objects.update(target_count=Coalesce(Subquery(counted), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0004_agency_domain_lookalike_override"),
        ("intake", "0005_document_text"),
        ("jurisdictions", "0002_load_iso3166"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="legalrequest",
            name="intake_lega_status_114a7c_idx",
        ),
        migrations.RemoveIndex(
            model_name="statuschange",
            name="intake_stat_request_358e12_idx",
        ),
        migrations.AddField(
            model_name="legalrequest",
            name="target_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="legalrequest",
            index=models.Index(
                fields=["status", "respond_by", "received_at", "id"], name="request_queue_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="legalrequest",
            index=models.Index(
                fields=["status", "kind", "respond_by", "received_at", "id"],
                name="request_queue_kind_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="legalrequest",
            index=models.Index(fields=["received_at", "id"], name="request_received_idx"),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                fields=["request", "occurred_at", "id"], name="status_change_history_idx"
            ),
        ),
    ]
