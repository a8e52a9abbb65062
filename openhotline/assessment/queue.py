"""The analysts' queue: which case comes next, and exclusive, expiring claims on cases.

A claim is a row whose primary key is the case, so two analysts can never hold one case:
the second insert fails on the key, on SQLite and on PostgreSQL alike, and that analyst
simply tries the next candidate. A claim lapses when not touched for CLAIM_MINUTES.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from openhotline.assessment.models import Claim, Skip
from openhotline.audit.services import record
from openhotline.cases.models import ASSESSABLE_STATES, Case, CaseKind, CaseState
from openhotline.evidence.models import Capture, CaptureState

_ORDER_FIELDS = {
    "priority": ["-priority"],
    "reports": ["-report_count"],
    "age": ["created_at"],
}
# How many candidates one attempt reads; racing analysts each take the first free one.
_CANDIDATES = 20


class ClaimRefused(Exception):
    """The case cannot be claimed by this person now; the message says why."""


def queue_order() -> list[str]:
    fields: list[str] = []
    for key in settings.QUEUE_ORDER:
        fields += _ORDER_FIELDS[key]
    return [*fields, "id"]


def assessable() -> QuerySet[Case]:
    """Cases waiting for an analyst: captured (or failed to capture, with no capture still
    to run), or reports with no web address."""
    capture_running = Capture.objects.filter(
        case=OuterRef("pk"), state__in=[CaptureState.PENDING, CaptureState.RUNNING]
    )
    return Case.objects.filter(
        Q(state__in=ASSESSABLE_STATES) | Q(kind=CaseKind.OTHER, state=CaseState.RECEIVED)
    ).exclude(Exists(capture_running))


def waiting(now: Any = None) -> QuerySet[Case]:
    """The queue as everyone sees it: assessable cases nobody holds, in queue order."""
    now = now or timezone.now()
    held = Claim.objects.filter(case=OuterRef("pk"), expires_at__gt=now)
    return assessable().exclude(Exists(held)).order_by(*queue_order())


def held_by(user: Any, now: Any = None) -> Claim | None:
    """The analyst's live claim, if any (one case at a time)."""
    now = now or timezone.now()
    return (
        Claim.objects.filter(analyst=user, expires_at__gt=now)
        .select_related("case")
        .order_by("-claimed_at")
        .first()
    )


def claim_next(user: Any) -> Case | None:
    """The case the analyst holds, or the first waiting case they can take; None if the
    queue has nothing for them."""
    current = held_by(user)
    if current is not None:
        return current.case
    for _attempt in range(5):
        now = timezone.now()
        recently_skipped = Skip.objects.filter(
            analyst=user, at__gt=now - timedelta(hours=settings.SKIP_HOURS)
        ).values("case_id")
        candidates = list(
            waiting(now).exclude(pk__in=recently_skipped).values_list("pk", flat=True)[:_CANDIDATES]
        )
        if not candidates:
            return None
        for case_id in candidates:
            if _take(case_id, user, now):
                return Case.objects.get(pk=case_id)
    return None


def claim_case(case: Case, user: Any) -> None:
    """Claim a named case (from the inbox). Raises ClaimRefused with the reason."""
    now = timezone.now()
    existing = Claim.objects.filter(case=case).select_related("analyst").first()
    if existing is not None and existing.expires_at > now and existing.analyst_id != user.pk:
        raise ClaimRefused(f"{existing.analyst.get_username()} is assessing this case.")
    if existing is not None and existing.analyst_id == user.pk:
        touch(case, user)
        return
    other = held_by(user, now)
    if other is not None:
        raise ClaimRefused(f"Finish or release case #{other.case_id} first.")
    if not assessable().filter(pk=case.pk).exists():
        raise ClaimRefused("This case is not waiting for assessment.")
    if not _take(case.pk, user, now):
        raise ClaimRefused("Someone else claimed this case a moment ago.")


def _take(case_id: int, user: Any, now: Any) -> bool:
    try:
        with transaction.atomic():
            # A lapsed claim makes way; a live one stays and the insert below fails.
            Claim.objects.filter(case_id=case_id, expires_at__lte=now).delete()
            Claim.objects.create(
                case_id=case_id, analyst=user, claimed_at=now, expires_at=_expiry(now)
            )
            # Decided in the meantime (our candidate list was read before the insert)?
            if not assessable().filter(pk=case_id).exists():
                raise _Stale
            record("case.claimed", actor=user, obj=Case(pk=case_id), data={})
    except (IntegrityError, _Stale):
        return False
    return True


class _Stale(Exception):
    pass


def _expiry(now: Any) -> Any:
    return now + timedelta(minutes=settings.CLAIM_MINUTES)


def holds(case: Case, user: Any) -> bool:
    """Whether the analyst holds the case now; a lapsed claim of theirs that nobody
    else took is theirs again."""
    return touch(case, user)


def touch(case: Case, user: Any) -> bool:
    """Extend the analyst's claim on the case; False if it is not (or no longer) theirs."""
    return bool(
        Claim.objects.filter(case=case, analyst=user).update(expires_at=_expiry(timezone.now()))
    )


def release(case: Case, user: Any, *, reason: str = "released") -> bool:
    with transaction.atomic():
        deleted, _ = Claim.objects.filter(case=case, analyst=user).delete()
        if deleted:
            record("case.released", actor=user, obj=case, data={"reason": reason})
    return bool(deleted)


def skip(case: Case, user: Any, reason: str) -> None:
    """Pass the case on with a reason: released, and not offered to this analyst again
    for SKIP_HOURS."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Say why you are skipping this case.")
    with transaction.atomic():
        Skip.objects.create(case=case, analyst=user, reason=reason[:500])
        Claim.objects.filter(case=case, analyst=user).delete()
        record("case.skipped", actor=user, obj=case, data={"reason": reason[:500]})
