"""Composing and sending one action's e-mail: a human-readable text from per-language
templates and, for notices and referrals, an X-ARF v4 report. Never any media.

Sending is idempotent: an action is sent only from `pending` (or `sending`, after a crash
before the mail server accepted it), and marked `sent` in the same breath as the server's
acceptance. The Message-ID is derived from the action's reference, so a receiver can
recognise a repeat in the one window we cannot close (accepted by the server, then the
worker dies before recording it).
"""

import hashlib
import secrets
import smtplib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone

from openhotline import grading, pipeline
from openhotline.assessment.standing import criminal_decision, standing_criminal_grades
from openhotline.audit.services import record
from openhotline.cases.services import flag_needs_person as flag
from openhotline.signals.services import hashes_by_media
from openhotline.takedown import package, schedule, xarf
from openhotline.takedown.models import Action, ActionKind, ActionState
from openhotline.tracing.models import PartnerHotline

XARF_KINDS = frozenset(
    {
        ActionKind.NOTICE,
        ActionKind.PARTNER_REFERRAL,
        ActionKind.POLICE_REFERRAL,
        ActionKind.CHASE,
        ActionKind.ESCALATION,
    }
)


class NotSent(Exception):
    """The action cannot be sent now; the message says why."""


class Redirected(Exception):
    """The mail server refused the recipient for good; the action now names its next
    contact and is to be sent again at once."""


def new_reference() -> str:
    return "N" + secrets.token_hex(8).upper()


def removed_link_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(24)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def removed_url(action: Action, secret: str) -> str:
    return settings.SITE_URL + reverse("takedown:removed", args=[action.reference, secret])


def _evidence(action: Action) -> dict[str, Any]:
    """What the notice says about the content: the standing grades and hashes of its
    criminal media (text only), the first time it was seen."""
    decision = criminal_decision(action.case)
    grades = standing_criminal_grades(action.case)
    grades.sort(key=lambda g: -grading.severity_rank(g.uk_category))
    hashes = hashes_by_media([g.media_id for g in grades], ["md5", "sha1", "sha256", "pdq"])
    items = [
        {
            "uk_category": g.uk_category,
            "grade": g.grade,
            "age_band": g.age_band,
            "non_photographic": g.non_photographic,
            "hashes": hashes.get(g.media_id, {}),
        }
        for g in grades
    ]
    return {"decision": decision, "items": items}


def compose(action: Action, secret: str = "") -> EmailMessage:
    case = action.case
    evidence = _evidence(action)
    language = _language(action)
    context = {
        "action": action,
        "case": case,
        "trace": action.trace,
        "hotline": settings.HOTLINE_NAME,
        "items": evidence["items"],
        "removed_url": removed_url(action, secret) if secret else "",
        "first_seen": case.created_at,
        "fingerprint": _fingerprint() if action.kind == ActionKind.INTELLIGENCE else "",
    }
    names = [f"takedown/mail/{action.kind}.{language}.txt", f"takedown/mail/{action.kind}.en.txt"]
    body = select_template(names).render(context)
    subject = f"[{settings.HOTLINE_NAME} {action.reference}] {action.get_kind_display()}: " + (
        f"child sexual abuse material at {case.host}"
        if case.host
        else "child sexual abuse material"
    )
    headers = {
        "Message-ID": f"<{action.reference}@{_domain()}>",
        "X-Notice-Reference": action.reference,
    }
    kind = (
        xarf.XarfEmailMessage if action.kind in XARF_KINDS and evidence["items"] else EmailMessage
    )
    message = kind(subject, body, settings.DEFAULT_FROM_EMAIL, [action.recipient], headers=headers)
    if kind is xarf.XarfEmailMessage:
        xarf.attach_to(message, xarf.build_report(_xarf_input(action, evidence)))
    if action.kind == ActionKind.INTELLIGENCE:
        message.attach(
            f"intelligence-{action.reference}.zip", package.build(case), "application/zip"
        )
    return message


def _fingerprint() -> str:
    return package.fingerprint()


def _language(action: Action) -> str:
    """A partner hotline's language; for hosts, French for French-speaking countries
    (templates exist for en and fr; any other language falls back to English)."""
    if action.kind == ActionKind.PARTNER_REFERRAL:
        partner = PartnerHotline.objects.filter(email=action.recipient).first()
        if partner is not None:
            return partner.language
    country = action.trace.country if action.trace is not None else ""
    return "fr" if action.kind == ActionKind.NOTICE and country in _FRENCH else "en"


_FRENCH = frozenset({"FR", "BE", "LU", "MC", "SN", "CI", "ML", "BF", "NE", "CM", "CD", "MG"})


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"


def _xarf_input(action: Action, evidence: dict[str, Any]) -> xarf.XarfInput:
    worst = evidence["items"][0]
    hashes = [xarf.MediaHash(name, value) for name, value in worst["hashes"].items()]
    trace = action.trace
    address = trace.addresses[0]["address"] if trace is not None and trace.addresses else None
    reporter = xarf.Contact(settings.HOTLINE_NAME, settings.DEFAULT_FROM_EMAIL, _domain())
    classification = xarf.classification_for(
        worst["grade"], worst["age_band"] or None, non_photographic=worst["non_photographic"]
    )
    return xarf.XarfInput(
        notice_id=action.reference,
        reporter=reporter,
        url=action.case.url or "",
        first_seen=action.case.created_at,
        reported_at=timezone.now(),
        classification=classification or "baseline",
        grade=worst["grade"],
        uk_category=worst["uk_category"] or None,
        hashes=hashes,
        source_ip=address,
        verified_at=evidence["decision"].decided_at if evidence["decision"] else None,
    )


def send(action_id: int) -> str:
    """Send the action's mail once. Returns what happened; raises NotSent to be retried."""
    with transaction.atomic():
        action = (
            Action.objects.select_for_update(of=("self",))
            .select_related("case", "trace")
            .get(pk=action_id)
        )
        sendable = (ActionState.PENDING, ActionState.SENDING, ActionState.WAITING)
        if action.state not in sendable:
            return f"{action.reference}: {action.state}, nothing to send"
        # Waiting for police clearance: it goes when they clear it or the timeout passes.
        if action.not_before is not None and action.not_before > timezone.now():
            return f"{action.reference}: not before {action.not_before.isoformat()}"
        if not action.recipient:
            action.state = ActionState.FAILED
            action.save(update_fields=["state"])
            flag_needs_person(action, action.problem or "no recipient")
            return f"{action.reference}: no recipient ({action.problem})"
        secret, digest = removed_link_secret() if action.kind in _WITH_LINK else ("", "")
        action.state = ActionState.SENDING
        action.attempts += 1
        action.removed_link_digest = digest or action.removed_link_digest
        action.save(update_fields=["state", "attempts", "removed_link_digest"])
    try:
        message = compose(action, secret)
    except Exception as exc:  # a template or data fault: no retry would mend it
        Action.objects.filter(pk=action.pk).update(
            state=ActionState.FAILED, problem=f"could not compose: {exc}"[:500]
        )
        raise
    try:
        message.send()
    except Exception as exc:
        refusal = permanent_refusal(exc)
        if refusal:  # this address will never work: the next contact, not a retry
            return _next_contact(action, refusal)
        # The server failed or was not there: try again later.
        Action.objects.filter(pk=action.pk).update(
            state=ActionState.PENDING, problem=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise NotSent(f"{action.reference}: {exc}") from exc
    return _mark_sent(action)


def permanent_refusal(exc: Exception) -> str:
    """Why the recipient can never be sent to ("" if trying again may work): Django
    refuses an address it cannot write (ValueError), a server answers 5xx to RCPT TO."""
    if isinstance(exc, ValueError):
        return f"the address cannot be sent to: {exc}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        codes = [code for code, _text in exc.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            code, text = next(iter(exc.recipients.values()))
            detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
            return f"the mail server refused the recipient ({code} {detail})"
    return ""


def _next_contact(action: Action, refusal: str) -> str:
    """Move the action to its next fallback contact (and raise Redirected to send it now),
    or, with none left, fail it and flag the case for a person."""
    with transaction.atomic():
        locked = Action.objects.select_for_update().get(pk=action.pk)
        tried = f"{locked.recipient}: {refusal}"
        remaining = [tuple(f) for f in locked.fallbacks]
        record(
            "takedown.recipient_refused",
            actor=None,
            obj=locked,
            data={"to": locked.recipient, "why": refusal[:300], "left": len(remaining)},
        )
        # Every refusal stays on the record (the newest kept if it grows too long).
        history = f"{locked.problem}; {tried}" if locked.problem else tried
        if remaining:
            role, address = remaining[0]
            locked.recipient, locked.fallbacks = address, [list(f) for f in remaining[1:]]
            locked.state = ActionState.PENDING
            locked.problem = f"{history}; now the {role} contact"[-500:]
            locked.save(update_fields=["recipient", "fallbacks", "state", "problem"])
        else:
            locked.state = ActionState.FAILED
            locked.problem = f"no contact could be sent: {history}"[:500]
            locked.save(update_fields=["state", "problem"])
    if remaining:
        raise Redirected(f"{action.reference}: {tried}; trying {address}")
    flag_needs_person(action, locked.problem)
    return f"{action.reference}: failed, {locked.problem}"


def flag_needs_person(action: Action, why: str) -> None:
    """An action nobody can send: the case shows it needs a person (audited)."""
    flag(action.case_id, f"{action.reference} ({action.get_kind_display()}): {why}")


_WITH_LINK = frozenset({ActionKind.NOTICE, ActionKind.CHASE, ActionKind.ESCALATION})
# Actions a reporter hears of ("we sent a notice", "we passed it to …"); chase-ups and
# police notifications add nothing they need to know.
TOLD_TO_REPORTERS = frozenset(
    {
        ActionKind.NOTICE,
        ActionKind.PARTNER_REFERRAL,
        ActionKind.POLICE_REFERRAL,
        ActionKind.INTELLIGENCE,
    }
)


def _mark_sent(action: Action, now: datetime | None = None) -> str:
    now = now or timezone.now()
    with transaction.atomic():
        # A problem noted on the way (an unsendable contact skipped) stays on the record.
        Action.objects.filter(pk=action.pk).update(state=ActionState.SENT, sent_at=now)
        record(
            "takedown.sent",
            actor=None,
            obj=action,
            data={"kind": action.kind, "to": action.recipient, "reference": action.reference},
        )
        action.state, action.sent_at = ActionState.SENT, now
        schedule.notice_sent(action)
        if action.kind in TOLD_TO_REPORTERS:
            # "action taken" (once: the rows say who was told)
            pipeline.start("tell_case_reporters", action.case_id)
    return f"{action.reference}: sent to {action.recipient}"
