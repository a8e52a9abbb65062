"""Actions on a criminal case — notices to hosts, referrals to hotlines and police, police
notifications, intelligence packages — and the rechecks that follow them to removal.
Every action and every recheck is a row with its state and times."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActionKind(models.TextChoices):
    NOTICE = "notice", _("Notice to the host")
    POLICE_NOTIFICATION = "police_notice", _("Police notified")
    PARTNER_REFERRAL = "partner_referral", _("Referral to a partner hotline")
    POLICE_REFERRAL = "police_referral", _("Referral to police")
    INTELLIGENCE = "intelligence", _("Intelligence package for police")
    CHASE = "chase", _("Chase-up")
    ESCALATION = "escalation", _("Escalation")


class ActionState(models.TextChoices):
    WAITING = "waiting", _("Waiting (police clearance)")
    PENDING = "pending", _("To be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Action(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="actions")
    trace = models.ForeignKey(
        "tracing.Trace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ActionKind.choices)
    state = models.CharField(
        max_length=10, choices=ActionState.choices, default=ActionState.PENDING, db_index=True
    )
    # Our reference, in the subject, the X-ARF report and the Message-ID: one per action.
    reference = models.CharField(max_length=32, unique=True)
    recipient = models.EmailField(blank=True)
    route = models.CharField(max_length=10, blank=True)
    # What this chases or escalates.
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers"
    )
    # The host's "removed" link: only a digest of its secret is kept.
    removed_link_digest = models.CharField(max_length=64, blank=True)
    removed_reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    problem = models.CharField(max_length=500, blank=True)
    # Contacts to try, in order, when the mail server refuses the recipient for good:
    # [[role, address], ...] with role network, registrar, upstream or police.
    fallbacks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} for case {self.case_id} ({self.state})"


class RecheckResult(models.TextChoices):
    LIVE = "live", _("Still there")
    GONE = "gone", _("Gone")
    MEDIA_GONE = "media_gone", _("Page there, criminal media gone")
    # 403, 429, 5xx, a timeout, a cut-off body: the host did not say; never counts as gone.
    ERROR = "error", _("Inconclusive (could not tell)")


class Recheck(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="rechecks")
    at = models.DateTimeField(default=timezone.now)
    result = models.CharField(max_length=12, choices=RecheckResult.choices)
    detail = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    criminal_media_seen = models.PositiveIntegerField(default=0)
    trace = models.ForeignKey(
        "tracing.Trace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why it ran: the schedule, or the host's "removed" link.
    reason = models.CharField(max_length=50, default="schedule")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"recheck of case {self.case_id} at {self.at:%Y-%m-%d %H:%M}: {self.result}"


class RecheckPlan(models.Model):
    """The one recheck a case waits for. Whatever asks for a recheck (the schedule, the
    host's link, a confirmation, the later verification) replaces this row and bumps
    `generation`; a queued task whose generation is not the row's has nothing to do, so a
    case never has two chains of rechecks."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="recheck_plan"
    )
    due_at = models.DateTimeField()
    reason = models.CharField(max_length=50, default="schedule")
    # Position in RECHECK_DELAYS (then the daily rechecks) of the next scheduled recheck.
    round = models.PositiveIntegerField(default=0)
    generation = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"case {self.case_id}: {self.reason} recheck due {self.due_at:%Y-%m-%d %H:%M}"


class Removal(models.Model):
    """Removal confirmed: when, and how long it took from the first notice. A removal is
    verified once more later; content found back reopens the case (`reuploaded_at`), and
    a later confirmed removal is a row of its own."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="removals")
    confirmed_at = models.DateTimeField(default=timezone.now)
    first_action_at = models.DateTimeField(null=True, blank=True)
    seconds_to_removal = models.FloatField(null=True, blank=True)
    how = models.CharField(max_length=200)
    # The verification recheck REMOVAL_VERIFY_SECONDS later found it still gone…
    verified_at = models.DateTimeField(null=True, blank=True)
    # …or found it back: re-uploaded (counted in statistics), the case reopened.
    reuploaded_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        return f"case {self.case_id} removed at {self.confirmed_at:%Y-%m-%d %H:%M}"
