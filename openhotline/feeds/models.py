"""A feed is a set of keyed items; every addition and removal is a change row numbered by
the feed's own monotonic sequence, so a member's copy is a snapshot at some sequence plus
the changes after it. Nothing is skipped or repeated: a delta is "all changes with a
sequence above the cursor", in order."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FeedName(models.TextChoices):
    URL_LIST = "url-list", _("URL List")
    HASH_LIST = "hash-list", _("Hash List")
    KEYWORD_LIST = "keyword-list", _("Keyword List")
    DOMAIN_ALERTS = "domain-alerts", _("Domain Alerts")
    VIRTUAL_CURRENCY_ALERTS = "vc-alerts", _("Virtual Currency Alerts")
    NPI_URL_LIST = "npi-url-list", _("Non-Photographic Imagery URL List")


class Feed(models.Model):
    name = models.CharField(max_length=30, choices=FeedName.choices, unique=True)
    # The sequence number of the latest change; taken under a row lock, so monotonic.
    last_seq = models.BigIntegerField(default=0)
    # Items listed now; kept with every change, so a snapshot knows its size unasked.
    live_count = models.BigIntegerField(default=0)
    # Changes up to this number were rewritten to forget items withdrawn from members (a
    # hash list no longer shared): a snapshot file made before it may hold them.
    redacted_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.get_name_display()


class FeedItem(models.Model):
    """What the feed holds now (live items) and held (removed ones keep their row)."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=2048)
    data = models.JSONField(default=dict, blank=True)
    added_seq = models.BigIntegerField()
    removed_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "key"], name="one_item_per_key")]
        indexes = [models.Index(fields=["feed", "removed_seq", "added_seq"], name="feed_live_idx")]

    def __str__(self) -> str:
        return f"{self.feed.name}: {self.key[:60]}"


class ChangeOp(models.TextChoices):
    ADD = "add", _("Added")
    REMOVE = "remove", _("Removed")


class FeedChange(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="changes")
    seq = models.BigIntegerField()
    op = models.CharField(max_length=6, choices=ChangeOp.choices)
    key = models.CharField(max_length=2048)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "seq"], name="one_change_per_seq")]
        # A withdrawn key's past changes are found by key (services.redact).
        indexes = [models.Index(fields=["feed", "key"], name="feed_change_key_idx")]
        ordering = ["feed", "seq"]

    def __str__(self) -> str:
        return f"{self.feed.name} #{self.seq} {self.op} {self.key[:60]}"


class Tier(models.TextChoices):
    BASIC = "basic", _("Hashes only")
    CATEGORY = "category", _("Hashes with category")
    FULL = "full", _("Hashes with grading metadata")


class Licence(models.Model):
    """A member organisation may take one feed (and, for the Hash List, a metadata tier)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="licences"
    )
    feed = models.CharField(max_length=30, choices=FeedName.choices)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.BASIC)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "feed"], name="one_licence_per_feed")
        ]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.feed} ({self.tier})"


class Membership(models.Model):
    """What a member organisation may do beyond downloading its licensed feeds."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="membership"
    )
    can_match = models.BooleanField(default=False, help_text="May use the matching API.")
    can_send_images = models.BooleanField(
        default=False, help_text="May send images to the matching API (hashed, never kept)."
    )
    calls_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Matching calls per key per minute; empty: the setting."
    )

    def __str__(self) -> str:
        return f"membership of {self.organisation}"


class MemberKey(models.Model):
    """An API key: `ohk_<key_id>_<secret>`; only the secret's SHA-256 is stored. Scoped to
    feeds (within the organisation's licences) and to matching, expiring, revocable, and
    optionally limited to networks."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="member_keys"
    )
    key_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    feeds = models.JSONField(default=list, blank=True)
    can_match = models.BooleanField(default=False)
    allowed_networks = models.JSONField(default=list, blank=True, help_text="CIDRs; empty: any")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ohk_{self.key_id}_… ({self.organisation})"


class AccessLog(models.Model):
    """Every download and lookup, per member: what, when, how much — never the content
    of a lookup."""

    key = models.ForeignKey(MemberKey, null=True, on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    endpoint = models.CharField(max_length=50)
    feed = models.CharField(max_length=30, blank=True)
    status = models.PositiveSmallIntegerField()
    items = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.endpoint} {self.feed} {self.status} at {self.at:%Y-%m-%d %H:%M}"
