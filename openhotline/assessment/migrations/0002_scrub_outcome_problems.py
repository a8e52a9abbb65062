"""Outcome mails that failed before issue 14 kept the mail server's refusal as it came,
and servers repeat the recipient's address: keep only the SMTP code of those reasons."""

import re

from django.db import migrations

_CODE = re.compile(r"\b([45]\d\d(?: [45]\.\d{1,3}\.\d{1,3})?)\b")
_KEPT = "not sent (the earlier reason was removed: it could hold the reporter's address)"


def scrub(apps, schema_editor):
    OutcomeMessage = apps.get_model("assessment", "OutcomeMessage")
    for message in OutcomeMessage.objects.exclude(problem="").iterator():
        code = _CODE.search(message.problem)
        message.problem = f"{_KEPT}; SMTP {code.group(1)}" if code else _KEPT
        message.save(update_fields=["problem"])


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
