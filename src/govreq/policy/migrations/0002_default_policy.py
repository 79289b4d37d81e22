"""Version 1 of the review policy: govreq's defaults (see govreq.policy.document)."""

from django.db import migrations
from django.utils import timezone

from govreq.policy.document import DEFAULT_POLICY, PolicyDocument


def create(apps, schema_editor):
    PolicyVersion = apps.get_model("policy", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    document = PolicyDocument.model_validate(DEFAULT_POLICY).model_dump(mode="json")
    PolicyVersion.objects.create(
        version=1, document=document, note="govreq default policy", created_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
