"""Hashes of captured media. (Hash lists and matching come with the rest of the signals
issue.)"""

from django.db import models
from django.utils import timezone


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
