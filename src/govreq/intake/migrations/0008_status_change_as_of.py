"""The status history's index also holds each change's status, so the report's "status as of"
look-ups never read the table. The new index is built before the old one goes: no moment
without one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0007_target_match"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                fields=["request", "occurred_at", "id", "to_status"],
                name="status_change_as_of_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="statuschange",
            name="status_change_history_idx",
        ),
    ]
