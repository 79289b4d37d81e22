from django.db import migrations, models
from django.db.models import F


def applied_when_placed(apps, schema_editor):
    """Holds placed before holds could start later were applied when they were placed."""
    JurisdictionHold = apps.get_model("holds", "JurisdictionHold")
    JurisdictionHold.objects.filter(applied_at__isnull=True).update(applied_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("holds", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="jurisdictionhold",
            name="applied_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(applied_when_placed, migrations.RunPython.noop),
    ]
