"""Reporters hear each stage of a case (assessed, action taken, removed), not only the
decision: an outcome message is kept per report, decision, stage and occasion. Messages
sent before were about the decision, so they become its "criminal" or "not criminal"."""

from typing import Any

from django.db import migrations, models

STAGES = [
    ("received", "Received, being assessed"),
    ("not_criminal", "Assessed: not criminal"),
    ("criminal", "Assessed: criminal, action being prepared"),
    ("action_taken", "Action taken"),
    ("removed", "Removed"),
]


def stage_from_decision(apps: Any, schema_editor: Any) -> None:
    OutcomeMessage = apps.get_model("assessment", "OutcomeMessage")
    OutcomeMessage.objects.filter(decision__criminal=True).update(stage="criminal")
    OutcomeMessage.objects.filter(decision__criminal=False).update(stage="not_criminal")


class Migration(migrations.Migration):
    dependencies = [("assessment", "0003_qa_holds_and_recusals")]

    operations = [
        migrations.RemoveConstraint(model_name="outcomemessage", name="one_outcome_message"),
        migrations.AddField(
            model_name="outcomemessage",
            name="stage",
            field=models.CharField(choices=STAGES, default="not_criminal", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outcomemessage",
            name="occasion",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="outcomemessage",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(stage_from_decision, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="outcomemessage",
            constraint=models.UniqueConstraint(
                fields=("report", "decision", "stage", "occasion"),
                name="one_outcome_message_per_stage",
            ),
        ),
    ]
