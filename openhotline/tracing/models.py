"""Where content is hosted (a trace per look), the partner hotline directory, and the
routing rules that send the work to the right place. Rules and directory are data that a
hotline manager edits."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Trace(models.Model):
    """One look at where a case's host is served from: the DNS chain, each address's
    country and network, and the abuse contacts RDAP gave. A case is traced again on each
    recheck; a trace whose networks differ from the one before records a move."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="traces")
    host = models.CharField(max_length=255)
    at = models.DateTimeField(default=timezone.now)
    cnames = models.JSONField(default=list, blank=True)
    # [{"address", "country", "asn", "as_name", "network", "cdn"}], in resolver order.
    addresses = models.JSONField(default=list, blank=True)
    dns_error = models.CharField(max_length=500, blank=True)
    # The hosting country: of the first address (of the origin when a CDN revealed it).
    country = models.CharField(max_length=2, blank=True)
    asn = models.PositiveBigIntegerField(null=True, blank=True)
    as_name = models.CharField(max_length=255, blank=True)
    network = models.CharField(max_length=64, blank=True)
    cdn = models.CharField(max_length=100, blank=True, help_text="CDN or reverse proxy in front")
    network_abuse = models.JSONField(default=list, blank=True, help_text="E-mail addresses")
    registrar = models.CharField(max_length=255, blank=True)
    registrar_abuse = models.JSONField(default=list, blank=True)
    rdap_problems = models.JSONField(default=list, blank=True)
    moved = models.BooleanField(default=False)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"trace of {self.host} at {self.at:%Y-%m-%d %H:%M} ({self.country or '?'})"

    @property
    def networks(self) -> frozenset[str]:
        return frozenset(a.get("network") or a.get("address", "") for a in self.addresses)

    @property
    def abuse_contact(self) -> str:
        """Where a notice goes: the CDN's, else the network's, else the registrar's."""
        for contacts in (self.network_abuse, self.registrar_abuse):
            if contacts:
                return str(contacts[0])
        return ""


class PartnerHotline(models.Model):
    """A hotline in another country that takes referrals (INHOPE members and others)."""

    country = models.CharField(max_length=2, unique=True, help_text="ISO 3166-1 alpha-2")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, help_text="Where referrals go; empty: not yet agreed")
    website = models.URLField(blank=True)
    inhope_member = models.BooleanField(default=True)
    language = models.CharField(max_length=10, default="en")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class Route(models.TextChoices):
    HOME = "home", _("Home country: notice to the host, police notified")
    PARTNER = "partner", _("Referral to the partner hotline")
    POLICE = "police", _("Referral to police (or INTERPOL)")


class RoutingRule(models.Model):
    """How a country's content is handled. The rule for "" applies to countries with no
    rule of their own and no partner hotline."""

    country = models.CharField(max_length=2, blank=True, unique=True)
    route = models.CharField(max_length=10, choices=Route.choices)
    # Home: wait for police clearance before the notice, up to a timeout (UK practice).
    await_police_clearance = models.BooleanField(default=False)
    clearance_timeout_hours = models.PositiveIntegerField(default=24)
    police_contact = models.EmailField(blank=True, help_text="Police unit or INTERPOL route")
    # With a referral, also send the hotline's own notice to the host.
    also_notice_host = models.BooleanField(default=False)
    chase_after_hours = models.PositiveIntegerField(default=24)
    chases_before_escalation = models.PositiveSmallIntegerField(default=2)
    escalate_to = models.EmailField(blank=True, help_text="Police, registrar or upstream")
    # A decision sampled for QA sends nothing for this country until QA agrees (or a
    # manager resolves); decisions of analysts in training always wait.
    hold_for_qa = models.BooleanField(
        "Hold actions until QA agrees",
        default=False,
        help_text="A decision sampled for QA sends nothing (no notice, referral or URL "
        "List entry) until the review agrees or a manager resolves it",
    )
    notes = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.country or 'any other country'}: {self.get_route_display()}"
