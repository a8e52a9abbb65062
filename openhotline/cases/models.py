"""A case is the unit of work: one reported URL (normalised), or one non-URL report."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    URL = "url", _("Web address")
    OTHER = "other", _("Other (no web address)")


class CaseState(models.TextChoices):
    RECEIVED = "received", _("Received")
    CAPTURED = "captured", _("Captured")
    CAPTURE_FAILED = "capture_failed", _("Capture failed")
    # An analyst decided the case: criminal content waits for tracing and action (a later
    # issue), anything else is closed with a reason on the decision.
    AWAITING_ACTION = "awaiting_action", _("Criminal: awaiting action")
    CLOSED = "closed", _("Closed")
    # Tracing and takedown: the work went out, and is followed until the content is gone.
    ACTIONED = "actioned", _("Criminal: notice or referral sent")
    REMOVED = "removed", _("Removal confirmed")


# Cases an analyst can assess: captured (or failed to capture), or with no URL at all.
ASSESSABLE_STATES = frozenset({CaseState.CAPTURED, CaseState.CAPTURE_FAILED})


class Priority(models.IntegerChoices):
    """How soon an analyst should see a case; only ever raised by data, never lowered."""

    NORMAL = 0, _("Normal")
    KNOWN_MATCH = 20, _("Matches a known hash")
    CONFIRMED_VICTIM = 30, _("Matches a hash of an identified victim")
    # A child reporting their own image: set by the self-report channel.
    CHILD_SELF_REPORT = 40, _("A child's report of their own image")


class Case(models.Model):
    kind = models.CharField(max_length=10, choices=CaseKind.choices)
    # Normalised (see openhotline.urlnorm); unique, so reports of one address meet here.
    url = models.CharField(max_length=2048, null=True, blank=True, unique=True)
    host = models.CharField(max_length=255, blank=True, db_index=True)
    state = models.CharField(
        max_length=20, choices=CaseState.choices, default=CaseState.RECEIVED, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_reported_at = models.DateTimeField(default=timezone.now)
    report_count = models.PositiveIntegerField(default=0)
    # Two captures through different pathways (referrer, user agent) saw different pages.
    possibly_disguised = models.BooleanField(default=False)
    latest_report = models.ForeignKey(
        "intake.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Database defaults too: cases are opened by a raw upsert (services.attach_report_to_url).
    priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, default=Priority.NORMAL, db_default=Priority.NORMAL
    )
    # From known-hash matches: the most severe grade among the matched entries, for the
    # analyst to confirm (software suggests, a person decides).
    suggested_grade = models.CharField(max_length=20, blank=True, default="", db_default="")
    suggested_uk_category = models.CharField(max_length=10, blank=True, default="", db_default="")
    matched_media_count = models.PositiveIntegerField(default=0, db_default=0)
    # Software could not go on (no contact could be sent, …): why, until a person has
    # looked. Shown on the case record and in the inbox.
    needs_person = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            # The inbox: newest report first, keyset-paginated on (time, id).
            models.Index(fields=["-last_reported_at", "-id"], name="case_inbox_idx"),
            models.Index(fields=["state", "-last_reported_at", "-id"], name="case_inbox_state_idx"),
            # The assessment queue (openhotline.assessment.queue), in its default order.
            models.Index(
                fields=["state", "-priority", "-report_count", "created_at"],
                name="case_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.url or f"case {self.pk} ({self.get_kind_display()})"


class CaseTransition(models.Model):
    """Every change of a case's state is a row: who, when, from, to, why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=CaseState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_state or '∅'} → {self.to_state}"
