"""The analyst's work: claims on cases, reveals, grades, decisions and QA reviews.

Every step is a row: a claim is a lock with an expiry, a reveal is counted and audited,
a grade is kept for each person who gave one (analyst, QA reviewer, manager), and a
decision records what moved the case on.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openhotline import grading

GRADE_CHOICES = [(code, label) for code, label in grading.GRADES.items()]
AGE_CHOICES = [(code, label) for code, label in grading.AGE_BANDS.items()]


class AssessorProfile(models.Model):
    """A person's welfare settings, and the QA regime a manager set for them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="assessor_profile",
    )
    blur_strength = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(4), MaxValueValidator(40)]
    )
    greyscale = models.BooleanField(default=True)
    autoplay = models.BooleanField(default=False)
    # Empty: the REVEALS_PER_HOUR / REVEALS_PER_DAY settings.
    hourly_reveal_limit = models.PositiveIntegerField(null=True, blank=True)
    daily_reveal_limit = models.PositiveIntegerField(null=True, blank=True)
    # Every decision of an analyst in training, or until `full_qa_until`, goes to QA.
    in_training = models.BooleanField(default=False)
    full_qa_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"assessor profile of {self.user_id}"

    @property
    def hourly_limit(self) -> int:
        return self.hourly_reveal_limit or settings.REVEALS_PER_HOUR

    @property
    def daily_limit(self) -> int:
        return self.daily_reveal_limit or settings.REVEALS_PER_DAY


class Claim(models.Model):
    """One analyst's exclusive hold on a case; the primary key makes it exclusive."""

    case = models.OneToOneField(
        "cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="claim"
    )
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims"
    )
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"case {self.case_id} claimed by {self.analyst_id} until {self.expires_at}"


class Skip(models.Model):
    """An analyst passed a case on, and why; it is not offered to them again for a while."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="skips")
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    reason = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["analyst", "-at"], name="skip_recent_idx")]

    def __str__(self) -> str:
        return f"case {self.case_id} skipped by {self.analyst_id}"


class Reveal(models.Model):
    """One deliberate look at an unblurred item. `token` lets the browser fetch the
    original for a short while; nothing else can."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    media = models.ForeignKey("evidence.Media", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reveals")
    token = models.CharField(max_length=43, unique=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "-at"], name="reveal_counter_idx")]

    def __str__(self) -> str:
        return f"media {self.media_id} revealed to {self.user_id}"


class Stage(models.TextChoices):
    FIRST = "first", _("Analyst")
    QA = "qa", _("QA reviewer")
    RESOLVED = "resolved", _("Manager's resolution")


class Sex(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    BOTH = "both", _("Both")


class Via(models.TextChoices):
    REVEALED = "revealed", _("Seen unblurred")
    KNOWN_MATCH = "known_match", _("Confirmed from a known hash, no reveal")
    GROUP = "group", _("Near-duplicate of a graded item")
    RESOLUTION = "resolution", _("Chosen by a manager from the two grades")


class MediaGrade(models.Model):
    """One person's grade of one media item of a case, in neutral terms plus what it
    means under each law (computed by openhotline.grading and stored with it)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="grades")
    media = models.ForeignKey("evidence.Media", on_delete=models.PROTECT, related_name="grades")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    # Empty while the analyst is still grading; set when the case is decided.
    decision = models.ForeignKey(
        "Decision", null=True, blank=True, on_delete=models.CASCADE, related_name="grades"
    )
    review = models.ForeignKey(
        "Review", null=True, blank=True, on_delete=models.CASCADE, related_name="grades"
    )
    grade = models.CharField(max_length=20, choices=GRADE_CHOICES)
    age_band = models.CharField(max_length=5, choices=AGE_CHOICES, blank=True)
    children = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    self_generated = models.BooleanField(default=False)
    sextortion = models.BooleanField(default=False)
    ai_generated = models.BooleanField(default=False)
    non_photographic = models.BooleanField(default=False)
    collage = models.BooleanField(default=False)
    uk_category = models.CharField(max_length=10, blank=True)
    interpol_baseline = models.BooleanField(null=True, blank=True)
    vics_category = models.PositiveSmallIntegerField(null=True, blank=True)
    via = models.CharField(max_length=12, choices=Via.choices)
    # For a near-duplicate: the item of its group the person actually graded.
    group_of = models.ForeignKey(
        "evidence.Media", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # For a confirmed known hash: the match whose entry's grade was confirmed.
    match = models.ForeignKey(
        "signals.Match", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "media", "stage"],
                condition=Q(decision__isnull=True, review__isnull=True),
                name="one_draft_grade_per_item",
            ),
            models.UniqueConstraint(
                fields=["review", "media", "stage"],
                condition=Q(review__isnull=False),
                name="one_review_grade_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} grade of media {self.media_id} in case {self.case_id}: {self.grade}"

    @property
    def is_csam(self) -> bool:
        return self.grade in grading.ACTIVITIES

    def summary(self) -> str:
        """One line for screens and comparisons: what it is, under UK law."""
        if not self.is_csam:
            return grading.GRADES[self.grade]
        where = f"UK {self.uk_category}" if self.uk_category else ""
        return f"{where} · {grading.GRADES[self.grade]} · {self.age_band or 'age ?'}".strip(" ·")


class SiteType(models.TextChoices):
    IMAGE_HOST = "image_host", _("Image host")
    CYBERLOCKER = "cyberlocker", _("Cyberlocker")
    FORUM = "forum", _("Forum")
    SOCIAL_NETWORK = "social_network", _("Social network")
    WEBSITE = "website", _("Website")
    BANNER_SITE = "banner_site", _("Banner site")
    BLOG = "blog", _("Blog")
    SEARCH_RESULT = "search_result", _("Search result")
    OTHER = "other", _("Other")


class Mapping(models.TextChoices):
    """The law a decision was made under."""

    UK = "uk", _("UK law (categories A, B, C; prohibited images)")
    INTERPOL = "interpol", _("INTERPOL baseline")
    VICS = "vics", _("Project VIC US categories")


class ClosureReason(models.TextChoices):
    NOT_CSAM = "not_csam", _("No child sexual abuse material found")
    UNAVAILABLE = "unavailable", _("Content no longer available")
    OFF_REMIT = "off_remit", _("Outside the hotline's remit")


class QaReason(models.TextChoices):
    NOT_SAMPLED = "", _("Not sampled")
    SAMPLED = "sampled", _("Sampled at the configured share")
    TRAINING = "training", _("Analyst in training")
    PERIOD = "period", _("Full QA period")


class Decision(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="decisions")
    analyst = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(default=timezone.now)
    criminal = models.BooleanField()
    mapping = models.CharField(max_length=10, choices=Mapping.choices)
    closure_reason = models.CharField(max_length=12, choices=ClosureReason.choices, blank=True)
    site_type = models.CharField(max_length=20, choices=SiteType.choices)
    commercial = models.BooleanField(default=False)
    disguised = models.BooleanField(default=False)
    tor = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    qa = models.CharField(max_length=10, choices=QaReason.choices, blank=True)
    # When the grades went into the hotline's own hash list (QA or the confidence rule).
    grades_confirmed_at = models.DateTimeField(null=True, blank=True)
    # A criminal decision whose follow-on work (notices and referrals, the URL List, the
    # reporters' outcome) waits until QA agrees or a manager resolves: an analyst in
    # training's, or one whose country's routing rule says so. `hold_reason` stays as
    # the record of why; `released_at` says when the hold ended.
    held_for_qa = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=200, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        verdict = "criminal" if self.criminal else f"closed ({self.closure_reason})"
        return f"decision {self.pk} on case {self.case_id}: {verdict}"


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Waiting for a QA reviewer")
    IN_PROGRESS = "in_progress", _("Being reviewed")
    AGREED = "agreed", _("Agreed")
    DISPUTED = "disputed", _("Disagreement: a manager resolves")
    RESOLVED = "resolved", _("Resolved by a manager")


class Review(models.Model):
    """A blind second assessment of a decision, and its resolution if the two differ."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="review")
    state = models.CharField(
        max_length=12, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    criminal = models.BooleanField(null=True, blank=True)
    # What differed: [{"media": id, "fields": [...]}] and {"case": "criminal"}.
    differences = models.JSONField(default=list, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_notes = models.TextField(blank=True)
    final_criminal = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"review of decision {self.decision_id} ({self.state})"


class Recusal(models.Model):
    """A person who could review a decision chose to see the case's record while the
    review was waiting: they are no longer blind, so they may not review it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="recusals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="one_recusal")]

    def __str__(self) -> str:
        return f"{self.user_id} recused from review {self.review_id}"


class OutcomeStage(models.TextChoices):
    """The stages a reporter hears of. Each but the first is news worth a mail."""

    RECEIVED = "received", _("Received, being assessed")
    NOT_CRIMINAL = "not_criminal", _("Assessed: not criminal")
    CRIMINAL = "criminal", _("Assessed: criminal, action being prepared")
    ACTION_TAKEN = "action_taken", _("Action taken")
    REMOVED = "removed", _("Removed")


class OutcomeMessage(models.Model):
    """A reporter who left contact details was told where a case of their report stands:
    one row per report, decision, stage and occasion (a later removal after a re-upload),
    so a retried or repeated task never tells anyone twice. A mail may carry several rows
    (a report's cases that changed together). `claimed_at` is set, and committed, before
    the mail server is asked, so two workers never send the same row."""

    report = models.ForeignKey("intake.Report", on_delete=models.CASCADE, related_name="+")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=20, choices=OutcomeStage.choices)
    occasion = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "decision", "stage", "occasion"],
                name="one_outcome_message_per_stage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage} of decision {self.decision_id} for report {self.report_id}"
