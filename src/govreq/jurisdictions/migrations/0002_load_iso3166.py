"""Load every ISO 3166-1 country and territory (Hong Kong, Macao, Taiwan included)."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "iso3166.json"


def load(apps, schema_editor):
    Jurisdiction = apps.get_model("jurisdictions", "Jurisdiction")
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    existing = set(Jurisdiction.objects.values_list("code", flat=True))
    Jurisdiction.objects.bulk_create(
        Jurisdiction(code=row["code"], name=row["name"])
        for row in rows
        if row["code"] not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("jurisdictions", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
