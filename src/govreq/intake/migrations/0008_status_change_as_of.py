"""The status history's index also holds each change's status, so the report's "status as of"
look-ups never read the table. On PostgreSQL the new index is built, and the old one dropped,
concurrently: status changes go on meanwhile (a plain CREATE INDEX would hold them all back for
the whole build). The new one is there before the old one goes."""

from django.db import migrations, models

from govreq.core.online_indexes import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False  # PostgreSQL builds an index concurrently only outside a transaction

    dependencies = [
        ("intake", "0007_target_match"),
    ]

    operations = [
        AddIndexOnline(
            model_name="statuschange",
            index=models.Index(
                fields=["request", "occurred_at", "id", "to_status"],
                name="status_change_as_of_idx",
            ),
        ),
        RemoveIndexOnline(
            model_name="statuschange",
            name="status_change_history_idx",
        ),
    ]
