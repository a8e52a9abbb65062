"""What a reporter is told about a case, in plain words and never about the content: no
URL, no host name, no grade, no analyst. One function says where a case stands for the
public (`public_outcome`); the status page and the reporters' mail both use it."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from openhotline.assessment import holds
from openhotline.assessment.holds import SETTLED
from openhotline.assessment.models import OutcomeStage as Stage
from openhotline.assessment.models import Review
from openhotline.cases.models import Case, CaseState
from openhotline.takedown.models import Action, ActionKind, ActionState, Removal

# Stages a reporter who left an address is told of, once each.
NEWS = frozenset({Stage.NOT_CRIMINAL, Stage.CRIMINAL, Stage.ACTION_TAKEN, Stage.REMOVED})


@dataclass(frozen=True)
class PublicOutcome:
    stage: Stage
    text: str
    # The decision the stage follows from (None while being assessed).
    decision_id: int | None = None
    # What makes a repeat of the stage news again: the removal's id for REMOVED (content
    # put back and removed once more is a new removal), else 0.
    occasion: int = 0


def public_outcome(case: Case) -> PublicOutcome:
    """Where `case` stands, in the active language. A decision that may still be held
    until QA agrees reads "being assessed": a reporter is never told "criminal" before
    the hotline acts on it."""
    decision = holds.latest_decision(case)
    if case.state == CaseState.CLOSED:
        reason = decision.closure_reason if decision is not None else ""
        return PublicOutcome(Stage.NOT_CRIMINAL, _closed(reason), _pk(decision))
    if decision is None or case.state in (
        CaseState.RECEIVED,
        CaseState.CAPTURED,
        CaseState.CAPTURE_FAILED,
    ):
        return PublicOutcome(Stage.RECEIVED, _being_assessed())
    if case.state == CaseState.AWAITING_ACTION:
        if _may_be_held(decision):
            return PublicOutcome(Stage.RECEIVED, _being_assessed())
        return PublicOutcome(Stage.CRIMINAL, _criminal_preparing(), decision.pk)
    if case.state == CaseState.REMOVED:
        removed = _latest_removal(case)
        if removed is not None:
            return PublicOutcome(
                Stage.REMOVED, _removed_on(removed.confirmed_at), decision.pk, removed.pk
            )
    taken = _actions_taken(case)
    if taken:
        found = _("We assessed this and found criminal content.")
        text = " ".join([found, *taken, _("We will keep checking until it has been removed.")])
        return PublicOutcome(Stage.ACTION_TAKEN, text, decision.pk)
    return PublicOutcome(Stage.CRIMINAL, _criminal_preparing(), decision.pk)


def _pk(decision: Any) -> int | None:
    return decision.pk if decision is not None else None


def _being_assessed() -> str:
    return _(
        "We have received this and one of our analysts will assess it. "
        "There is nothing more you need to do."
    )


def _criminal_preparing() -> str:
    return _("We assessed this and found criminal content. We are acting to have it removed.")


def _closed(closure_reason: str) -> str:
    closed = {
        "not_csam": _(
            "We assessed this and did not find child sexual abuse material that is "
            "illegal under the laws we work to. Thank you for reporting it."
        ),
        "unavailable": _(
            "When we assessed this, the content could no longer be found at this "
            "address. Thank you for reporting it."
        ),
        "off_remit": _(
            "We assessed this and it was outside our remit, so we could not act on it. "
            "Thank you for reporting it."
        ),
    }
    return closed.get(closure_reason, _("We assessed this and have closed it."))


def _removed_on(confirmed_at: Any) -> str:
    day = formats.date_format(timezone.localtime(confirmed_at), "DATE_FORMAT")
    return _(
        "We assessed this and found criminal content, and acted to have it removed. "
        "We confirmed on %(date)s that it has been removed."
    ) % {"date": day}


def _may_be_held(decision: Any) -> bool:
    """Held now, or sampled for a QA review that has not had its say and not yet acted
    on (a routing rule may still hold it once the case is traced)."""
    if decision.held_for_qa:
        return True
    if not decision.criminal or decision.released_at is not None:
        return False
    review = Review.objects.filter(decision=decision).only("state").first()
    return review is not None and review.state not in SETTLED


def _latest_removal(case: Case) -> Any:
    return Removal.objects.filter(case=case).order_by("-confirmed_at", "-id").first()


def _actions_taken(case: Case) -> list[str]:
    """One sentence per kind of action sent (and country): what the reporter may know."""
    sent = (
        Action.objects.filter(
            case=case,
            state=ActionState.SENT,
            kind__in=[
                ActionKind.NOTICE,
                ActionKind.PARTNER_REFERRAL,
                ActionKind.POLICE_REFERRAL,
                ActionKind.INTELLIGENCE,
            ],
        )
        .order_by("sent_at", "id")
        .values_list("kind", "trace__country")
    )
    sentences: list[str] = []
    for kind, country in sent:
        if kind == ActionKind.NOTICE:
            sentence = _("We sent a notice to the company hosting it, asking them to remove it.")
        elif kind == ActionKind.PARTNER_REFERRAL and country:
            sentence = _(
                "We passed it to our partner hotline in the country where it is hosted "
                "(%(country)s)."
            ) % {"country": country_name(country)}
        elif kind == ActionKind.PARTNER_REFERRAL:
            sentence = _("We passed it to our partner hotline in the country where it is hosted.")
        elif country and kind == ActionKind.POLICE_REFERRAL:
            sentence = _(
                "We passed it to the police in the country where it is hosted (%(country)s)."
            ) % {"country": country_name(country)}
        else:  # a police referral of unknown country, or an onion site's intelligence
            sentence = _("We passed it to the police.")
        if sentence not in sentences:
            sentences.append(sentence)
    return sentences


@cache
def _country_names() -> dict[str, dict[str, str]]:
    path = Path(__file__).with_name("country_names.json")
    names: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["names"]
    return names


def country_name(code: str) -> str:
    """An ISO 3166-1 country's name in the active language (English, else the code)."""
    names = _country_names().get(code.upper(), {})
    language = (translation.get_language() or "en").split("-")[0]
    return names.get(language) or names.get("en") or code
