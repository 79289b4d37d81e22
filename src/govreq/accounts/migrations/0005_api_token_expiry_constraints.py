from django.db import migrations, models


class Migration(migrations.Migration):
    # Apart from 0004's update of existing rows: PostgreSQL may refuse to alter a table with
    # pending trigger events in the same transaction.

    dependencies = [
        ("accounts", "0004_api_token_expires_at"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("officer__isnull", True), ("expires_at__isnull", False), _connector="OR"
                ),
                name="api_token_of_officer_expires",
            ),
        ),
        migrations.AddConstraint(
            model_name="apitoken",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("expires_at__isnull", True),
                    ("expires_at__gt", models.F("created_at")),
                    _connector="OR",
                ),
                name="api_token_expires_after_creation",
            ),
        ),
    ]
