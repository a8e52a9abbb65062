"""Staff and organisation users, their roles, organisations and API tokens."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ANALYST = "analyst", _("Analyst")
    QA_REVIEWER = "qa_reviewer", _("QA reviewer")
    MANAGER = "manager", _("Hotline manager")
    ADMINISTRATOR = "administrator", _("Administrator")
    POLICE_LIAISON = "police_liaison", _("Police liaison")
    MEMBER = "member", _("Member organisation user")


STAFF_ROLES = frozenset(
    {Role.ANALYST, Role.QA_REVIEWER, Role.MANAGER, Role.ADMINISTRATOR, Role.POLICE_LIAISON}
)


class OrganisationKind(models.TextChoices):
    MEMBER = "member", _("Member company")
    PARTNER_HOTLINE = "partner_hotline", _("Partner hotline")
    POLICE = "police", _("Police agency")
    PORTAL_PARTNER = "portal_partner", _("Portal partner")


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Hotline staff hold one of STAFF_ROLES.

    Anonymous reporters never have accounts.
    """

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    @property
    def is_hotline_staff(self) -> bool:
        return self.is_active and self.role in STAFF_ROLES

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django's own flags follow the role, so changing a role changes admin access too.
        self.is_staff = self.is_superuser = self.role == Role.ADMINISTRATOR
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)


class ApiToken(models.Model):
    """A bearer token: `oht_<token_id>_<secret>`; only the secret's SHA-256 is stored.

    The secret carries 256 random bits, so a fast digest is as good as a slow one here.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"oht_{self.token_id}_… ({self.user})"

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
