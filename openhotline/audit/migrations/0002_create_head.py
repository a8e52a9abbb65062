"""The single chain head row exists from the start, so writers never have to create it."""

from django.db import migrations


def create_head(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditHead = apps.get_model("audit", "AuditHead")
    AuditHead.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
