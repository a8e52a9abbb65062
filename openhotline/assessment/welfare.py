"""Protecting analysts: their settings, reveal counters and soft limits, and the reveal
itself — the one way to see an item unblurred, counted and audited every time."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.assessment.models import AssessorProfile, Reveal
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.evidence.models import Media


def profile_for(user: Any) -> AssessorProfile:
    profile, _ = AssessorProfile.objects.get_or_create(user=user)
    return profile


@dataclass(frozen=True)
class Counters:
    hour: int
    day: int
    hourly_limit: int
    daily_limit: int

    @property
    def over_limit(self) -> bool:
        return self.hour >= self.hourly_limit or self.day >= self.daily_limit

    def limit_message(self) -> str:
        if self.hour >= self.hourly_limit:
            return (
                f"You have revealed {self.hour} items in the last hour "
                f"(your limit is {self.hourly_limit}). Please take a break."
            )
        return (
            f"You have revealed {self.day} items today "
            f"(your limit is {self.daily_limit}). Please take a break."
        )


def counters(user: Any, profile: AssessorProfile | None = None) -> Counters:
    """Reveals in the last hour and since local midnight, against the person's limits."""
    profile = profile or profile_for(user)
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Reveal.objects.filter(user=user)
    return Counters(
        hour=mine.filter(at__gt=now - timedelta(hours=1)).count(),
        day=mine.filter(at__gte=midnight).count(),
        hourly_limit=profile.hourly_limit,
        daily_limit=profile.daily_limit,
    )


def reveal(user: Any, case: Case, media: Media) -> Reveal:
    """Count and audit one reveal; its token lets the browser fetch the original."""
    with transaction.atomic():
        shown = Reveal.objects.create(
            user=user, media=media, case=case, token=secrets.token_urlsafe(32)
        )
        record("media.revealed", actor=user, obj=media, data={"case": case.pk})
    return shown


def reveal_for(user: Any, media_id: int, token: str) -> Reveal | None:
    """The reveal behind an original-media request, if it is this person's and fresh."""
    if not token:
        return None
    fresh = timezone.now() - timedelta(seconds=settings.REVEAL_SECONDS)
    return Reveal.objects.filter(token=token, user=user, media_id=media_id, at__gt=fresh).first()


def revealed_media(user: Any, case: Case) -> set[int]:
    """Items this person has looked at unblurred in this case (any time)."""
    return set(Reveal.objects.filter(user=user, case=case).values_list("media_id", flat=True))
