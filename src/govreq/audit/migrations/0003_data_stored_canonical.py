"""Store each audit event's data as its canonical JSON text (``audit.fields``).

The hashes do not change: they always covered the canonical JSON of the data. Only the stored
form of the same value does (PostgreSQL's ``jsonb`` kept its own normalised text, Django's
SQLite text had spaces and ASCII escapes), so each row's text is rewritten to the canonical
bytes, in batches. Verification falls back to re-encoding a row whose text is not canonical, so
a log migrated halfway still verifies.
"""

import json

from django.db import migrations

import govreq.audit.fields
from govreq.core.canonical import canonical_json

BATCH = 5000


def store_canonical(apps, schema_editor):
    connection = schema_editor.connection
    update = (
        "UPDATE audit_auditevent SET data = %s::json WHERE id = %s"
        if connection.vendor == "postgresql"
        else "UPDATE audit_auditevent SET data = %s WHERE id = %s"
    )
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT id, data FROM audit_auditevent WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            changed = []
            for pk, text in rows:
                value = json.loads(text) if isinstance(text, str | bytes) else text
                canonical = canonical_json(value).decode("utf-8")
                if canonical != text:
                    changed.append((canonical, pk))
            if changed:
                cursor.executemany(update, changed)
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_auditcheckpoint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="data",
            field=govreq.audit.fields.CanonicalJSONField(default=dict),
        ),
        migrations.RunPython(store_canonical, migrations.RunPython.noop, elidable=True),
    ]
