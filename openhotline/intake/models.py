"""Reports as they arrive, and the reporting portals they may arrive through.

A report never stores its sender's IP address. Contact details, when given, are sealed
with the master key (openhotline.core.secretbox).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("Public web form")
    PORTAL = "portal", _("Reporting portal")
    API = "api", _("API")


def validate_languages(value: object) -> None:
    known = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, list) or not value or not all(v in known for v in value):
        raise ValidationError(
            f"Give a list of language codes from {sorted(known)}, first the default, "
            f'e.g. ["fr", "en"].'
        )


def validate_welcome_text(value: object) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError('Give texts by language code, e.g. {"en": "Welcome"}.')


class Portal(models.Model):
    """A country reporting portal, run with a partner organisation."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT
    )
    languages = models.JSONField(
        default=list,
        validators=[validate_languages],
        help_text='Language codes offered, first is the default, e.g. ["fr", "en"]',
    )
    welcome_text = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_welcome_text],
        help_text='Welcome text per language, e.g. {"en": "…"}',
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    @property
    def default_language(self) -> str:
        offered = [code for code in self.languages if code in dict(settings.LANGUAGES)]
        return offered[0] if offered else settings.LANGUAGE_CODE

    def welcome_for(self, language: str) -> str:
        texts = self.welcome_text or {}
        return str(texts.get(language) or texts.get(self.default_language) or "")


class Report(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    # SHA-256 of the secret in the status link; the secret itself is never stored.
    status_secret_digest = models.CharField(max_length=64)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    portal = models.ForeignKey(Portal, null=True, blank=True, on_delete=models.PROTECT)
    description = models.TextField(blank=True)
    contact_sealed = models.BinaryField(null=True, blank=True, editable=False)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference

    @property
    def wants_outcome(self) -> bool:
        return self.contact_sealed is not None


class ReportItem(models.Model):
    """One address of a report, as typed, and the case it became."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="report_items")
    position = models.PositiveSmallIntegerField()
    submitted = models.CharField(max_length=2048, blank=True)

    class Meta:
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(fields=["report", "position"], name="report_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.report_id}#{self.position}"
