"""Captures of reported pages, the media found on them, and the sealed blobs holding bytes."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Blob(models.Model):
    """One sealed, content-addressed piece of evidence.

    `name` is HMAC-SHA-256(storage key, plaintext), so names reveal nothing about content
    but identical content is stored once. The bytes in storage are AES-256-GCM ciphertext
    under a fresh data key; `wrapped_key` is that data key wrapped by the master key
    (`key_id` names which master key), so rotation re-wraps rows, never re-encrypts blobs.
    """

    name = models.CharField(max_length=64, unique=True)
    # Where the ciphertext is in the evidence storage: the name plus a random suffix, so
    # two writers racing on the same content never overwrite each other's file.
    path = models.CharField(max_length=100, unique=True)
    size = models.BigIntegerField()
    wrapped_key = models.BinaryField()
    key_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"blob {self.name[:12]}… ({self.size} bytes)"


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    OTHER = "other", _("Other")


class MediaCheck(models.TextChoices):
    OK = "ok", _("Decoded")
    CORRUPT = "corrupt", _("Corrupt or truncated")
    REFUSED = "refused", _("Refused (over a limit)")
    UNSUPPORTED = "unsupported", _("Not an image or video")
    # Decoding ran out of DECODE_SECONDS: kept sealed, no preview, revealed as a download.
    OVER_BUDGET = "over_budget", _("Decode budget exceeded")


class Media(models.Model):
    """A unique media file (by content), whatever page or case it was found on."""

    blob = models.OneToOneField(Blob, on_delete=models.PROTECT, related_name="media")
    kind = models.CharField(max_length=10, choices=MediaKind.choices)
    mime = models.CharField(max_length=64, blank=True, help_text="Sniffed from the bytes")
    format = models.CharField(max_length=20, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=MediaCheck.choices)
    problem = models.CharField(max_length=500, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    # The sealed preview base (unblurred, small, colour) that blurred previews are made
    # from; made at capture, or on first view for media captured before there were any.
    preview_blob = models.ForeignKey(
        Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return f"media {self.pk} ({self.mime or self.kind})"


class CaptureState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Captured")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class Capture(models.Model):
    """One visit to a case's URL: what was asked, what answered, and what was on the page."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="captures")
    state = models.CharField(
        max_length=10, choices=CaptureState.choices, default=CaptureState.PENDING
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    # Times a watchdog found this capture's worker dead and queued it again.
    restarts = models.PositiveSmallIntegerField(default=0)
    requested_url = models.CharField(max_length=2048)
    # The visitor we pretended to be: the "pathway" for disguised sites.
    referrer = models.CharField(max_length=2048, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    accept_language = models.CharField(max_length=100, blank=True)
    final_url = models.CharField(max_length=2048, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    hops = models.JSONField(default=list, help_text="Redirect chain: url, status, address, ms")
    headers = models.JSONField(default=list)
    addresses = models.JSONField(default=list)
    page_blob = models.ForeignKey(
        Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    page_digest = models.CharField(max_length=64, blank=True)
    media_set_digest = models.CharField(max_length=64, blank=True)
    page_truncated = models.BooleanField(default=False)
    total_bytes = models.BigIntegerField(default=0)
    problem = models.CharField(
        max_length=1000, blank=True, help_text="Why it failed or was refused"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    elapsed_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"capture {self.pk} of case {self.case_id} ({self.state})"


class ItemState(models.TextChoices):
    STORED = "stored", _("Stored")
    SKIPPED = "skipped", _("Skipped (limit)")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class CaptureItem(models.Model):
    """A media reference found on a captured page, and what became of it."""

    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="items")
    url = models.CharField(max_length=2048)
    found_in = models.CharField(max_length=20, help_text="img, srcset, video, poster, og, css…")
    state = models.CharField(max_length=10, choices=ItemState.choices)
    media = models.ForeignKey(
        Media, null=True, blank=True, on_delete=models.PROTECT, related_name="sightings"
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    truncated = models.BooleanField(default=False)
    problem = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["capture", "id"]
        constraints = [models.UniqueConstraint(fields=["capture", "url"], name="capture_item_url")]

    def __str__(self) -> str:
        return f"{self.found_in} {self.url}"
