"""Load the shipped partner hotline directory (hotlines.json); managers edit it after."""

import json
from pathlib import Path
from typing import Any

from django.db import migrations

DIRECTORY = Path(__file__).resolve().parent.parent / "hotlines.json"


def load(apps: Any, schema_editor: Any) -> None:
    partner = apps.get_model("tracing", "PartnerHotline")
    for row in json.loads(DIRECTORY.read_text(encoding="utf-8"))["hotlines"]:
        partner.objects.get_or_create(
            country=row["country"],
            defaults={
                "name": row["name"],
                "website": row.get("website", ""),
                "language": row.get("language", "en"),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("tracing", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
