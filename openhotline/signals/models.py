"""Hashes of captured media, hash lists ("banks") with graded entries, allow-lists, and
the matches between them."""

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from openhotline import grading


class MediaHash(models.Model):
    """One hash type's value for one media item, or why it could not be computed."""

    media = models.ForeignKey("evidence.Media", on_delete=models.CASCADE, related_name="hashes")
    hash_type = models.CharField(max_length=20)
    # Canonical text of the type (openhotline.signals.types); empty when hashing failed.
    value = models.TextField(blank=True)
    # For lookups: the value itself when short (digests, PDQ), else its SHA-256.
    lookup_key = models.CharField(max_length=64, blank=True)
    quality = models.SmallIntegerField(null=True, blank=True)
    usable_for_matching = models.BooleanField(default=True)
    note = models.CharField(max_length=500, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["media", "hash_type"], name="one_hash_per_type")
        ]
        indexes = [models.Index(fields=["hash_type", "lookup_key"], name="media_hash_lookup")]

    def __str__(self) -> str:
        return f"{self.hash_type}:{self.value[:16]}…"


class ListSource(models.TextChoices):
    OWN = "own", "Own grading"
    POLICE = "police", "Police / CAID import"
    PARTNER = "partner", "Partner hotline"
    MEMBER = "member", "Member submission"


class HashListQuerySet[M: models.Model](models.QuerySet[M]):
    def create(self, **kwargs: Any) -> M:
        """A list made without a word on sharing is shared only if it is the hotline's own
        grading (what `assessment.followups.own_list` makes); every other source's lists
        stay with the hotline until a manager shares them (`lists.set_sharing`)."""
        kwargs.setdefault("share_with_members", kwargs.get("source") == ListSource.OWN)
        return super().create(**kwargs)


class HashList(models.Model):
    """A named bank of hashes from one source, with its own threshold and allow-list."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=10, choices=ListSource.choices)
    enabled = models.BooleanField(default=True)
    # Its live entries go into the members' Hash List feed (while the list is enabled).
    # Off unless a manager shares it: what a source lets a hotline pass on is its call.
    share_with_members = models.BooleanField(default=False)
    # PDQ distance at or below which an entry of this list matches (Meta's default 31).
    pdq_threshold = models.PositiveSmallIntegerField(
        default=31, validators=[MinValueValidator(0), MaxValueValidator(64)]
    )
    # Euclidean PhotoDNA distance; empty: the PHOTODNA_MATCH_THRESHOLD setting.
    photodna_threshold = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = HashListQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


_GRADE_CHOICES = [(code, label) for code, label in grading.GRADES.items()]
_AGE_CHOICES = [(code, label) for code, label in grading.AGE_BANDS.items()]
_UK_CHOICES = [(c, f"Category {c}") for c in grading.UK_CATEGORIES] + [
    (grading.UK_PROHIBITED, "Prohibited image (non-photographic)")
]
_VICS_CHOICES = [(n, f"{n}: {label}") for n, label in grading.VICS_CATEGORIES.items()]


class ListEntry(models.Model):
    """One media's hashes in one list, and what is known about it."""

    hash_list = models.ForeignKey(HashList, on_delete=models.CASCADE, related_name="entries")
    # The source's own id (VICS MediaID, a partner's reference): re-imports update it.
    external_id = models.CharField(max_length=500, blank=True)
    grade = models.CharField(max_length=20, choices=_GRADE_CHOICES, blank=True)
    uk_category = models.CharField(max_length=10, choices=_UK_CHOICES, blank=True)
    interpol_baseline = models.BooleanField(null=True, blank=True)
    vics_category = models.PositiveSmallIntegerField(choices=_VICS_CHOICES, null=True, blank=True)
    age_band = models.CharField(max_length=5, choices=_AGE_CHOICES, blank=True)
    non_photographic = models.BooleanField(default=False)
    victim_identified = models.BooleanField(null=True, blank=True)
    offender_identified = models.BooleanField(null=True, blank=True)
    series = models.CharField(max_length=500, blank=True)
    confirmed_by_police = models.BooleanField(null=True, blank=True)
    first_seen = models.DateField(null=True, blank=True)
    provenance = models.CharField(max_length=500, blank=True)
    # Graded from this hotline's own captured media (the assessment issue fills it).
    source_media = models.ForeignKey(
        "evidence.Media", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hash_list", "external_id"],
                condition=~Q(external_id=""),
                name="entry_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.hash_list.name} entry {self.pk}"

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def severity(self) -> int:
        return grading.severity_rank(self.uk_category)


class EntryHash(models.Model):
    """One hash of an entry. `lookup_key` as on MediaHash: exact lookups go through it."""

    entry = models.ForeignKey(ListEntry, on_delete=models.CASCADE, related_name="hashes")
    hash_type = models.CharField(max_length=20)
    value = models.TextField()
    lookup_key = models.CharField(max_length=64)
    usable_for_matching = models.BooleanField(default=True)
    quality = models.SmallIntegerField(null=True, blank=True)  # PDQ's, when the source says

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "hash_type"], name="one_entry_hash_per_type")
        ]
        indexes = [
            models.Index(fields=["hash_type", "lookup_key"], name="entry_hash_lookup"),
            # The PDQ index catches up by id within a type; without this the database
            # sorts every PDQ row of a 10-million list on each catch-up.
            models.Index(fields=["hash_type", "id"], name="entry_hash_type_id"),
        ]

    def __str__(self) -> str:
        return f"{self.hash_type}:{self.value[:16]}…"


class EntryChange(models.Model):
    """History of an entry as rows: every creation, update, retirement and return."""

    class Action(models.TextChoices):
        CREATED = "created"
        UPDATED = "updated"
        RETIRED = "retired"
        RESTORED = "restored"

    entry = models.ForeignKey(ListEntry, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    # {field: [before, after]}; on creation, the fields set.
    changes = models.JSONField(default=dict)
    # What made the change: "import:<file> line 12", "staff", "grading".
    source = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["entry", "at"], name="entry_change_idx")]

    def __str__(self) -> str:
        return f"{self.action} entry {self.entry_id} at {self.at:%Y-%m-%d %H:%M}"


class AllowedHash(models.Model):
    """A hash that must never match in its list: known false positives (a common logo,
    a meme, a blank frame)."""

    hash_list = models.ForeignKey(HashList, on_delete=models.CASCADE, related_name="allowed")
    hash_type = models.CharField(max_length=20)
    value = models.TextField()
    lookup_key = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hash_list", "hash_type", "lookup_key"], name="allowed_hash_unique"
            )
        ]

    def __str__(self) -> str:
        return f"allowed {self.hash_type}:{self.value[:16]}… in {self.hash_list_id}"


class Match(models.Model):
    """A media item found in a list: which entry, by which hash type, how far apart.

    A match that an allow-listed hash cancels is kept (so "why did this not match" has an
    answer) with `allowed_by` set, and suggests nothing.
    """

    media = models.ForeignKey("evidence.Media", on_delete=models.CASCADE, related_name="matches")
    entry = models.ForeignKey(ListEntry, on_delete=models.CASCADE, related_name="matches")
    hash_list = models.ForeignKey(HashList, on_delete=models.CASCADE, related_name="matches")
    hash_type = models.CharField(max_length=20)
    distance = models.FloatField()
    # The threshold in force when it matched, for the "why" view.
    threshold = models.FloatField()
    media_value = models.TextField()
    entry_value = models.TextField()
    # Same bytes, or a perceptual hash so close that the entry's grade can stand for it
    # without the analyst revealing the image.
    near_exact = models.BooleanField(default=False)
    allowed_by = models.ForeignKey(
        AllowedHash, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    matched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media", "entry", "hash_type"], name="one_match_per_hash_type"
            )
        ]
        indexes = [models.Index(fields=["-matched_at", "-id"], name="match_recent_idx")]
        verbose_name_plural = "matches"

    def __str__(self) -> str:
        return f"media {self.media_id} ~ entry {self.entry_id} ({self.hash_type} {self.distance:g})"
