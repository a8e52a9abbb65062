"""The case decision: checked against the grades, sampled for QA, and what follows it —
the case moves on or closes, reporters hear the outcome, confirmed grades feed the own
hash list."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline import pipeline
from openhotline.assessment import holds, tasks
from openhotline.assessment.groups import Group
from openhotline.assessment.models import (
    Claim,
    ClosureReason,
    Decision,
    MediaGrade,
    QaReason,
    Review,
    SiteType,
    Stage,
)
from openhotline.assessment.models import (
    Mapping as LawMapping,
)
from openhotline.assessment.welfare import profile_for
from openhotline.audit.services import record
from openhotline.cases.models import ASSESSABLE_STATES, Case, CaseKind, CaseState
from openhotline.cases.services import transition
from openhotline.grading import severity_rank

MAX_NOTES = 5000


class DecisionErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class DecisionInput:
    criminal: bool
    mapping: str
    closure_reason: str
    site_type: str
    commercial: bool
    disguised: bool
    tor: bool
    notes: str


def _yes(value: object) -> bool:
    return str(value or "").lower() in {"1", "on", "true", "yes"}


def parse_decision(data: Mapping[str, Any]) -> DecisionInput:
    errors: dict[str, str] = {}
    verdict = str(data.get("criminal", "")).lower()
    if verdict not in {"yes", "no"}:
        errors["criminal"] = "Say whether the case is criminal."
    mapping = str(data.get("mapping", "") or settings.HOME_MAPPING)
    if mapping not in LawMapping.values:
        errors["mapping"] = f"Choose a law from {', '.join(LawMapping.values)}."
    closure = str(data.get("closure_reason", ""))
    if verdict == "no" and closure not in ClosureReason.values:
        errors["closure_reason"] = "Say why the case is closed."
    site_type = str(data.get("site_type", ""))
    if site_type not in SiteType.values:
        errors["site_type"] = "Choose the type of site."
    notes = str(data.get("notes", "")).strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = f"Keep notes under {MAX_NOTES} characters."
    if errors:
        raise DecisionErrors(errors)
    return DecisionInput(
        criminal=verdict == "yes",
        mapping=mapping,
        closure_reason="" if verdict == "yes" else closure,
        site_type=site_type,
        commercial=_yes(data.get("commercial")),
        disguised=_yes(data.get("disguised")),
        tor=_yes(data.get("tor")),
        notes=notes,
    )


def criminal_under(grade: MediaGrade, mapping: str) -> bool:
    """Whether a grade is criminal under a law, by the mapping stored with it."""
    if mapping == LawMapping.INTERPOL:
        return bool(grade.interpol_baseline)
    if mapping == LawMapping.VICS:
        return grade.vics_category in (1, 3)
    return bool(grade.uk_category)


def check_against_grades(
    given: DecisionInput, groups: list[Group], grades: dict[int, MediaGrade]
) -> None:
    """A decision must follow from the grades: every item graded; a case with criminal
    items cannot close as not criminal; a criminal case with no criminal item says why."""
    ungraded = [g for g in groups if any(m not in grades for m in g.media_ids)]
    if ungraded:
        raise DecisionErrors(
            {"grades": f"{len(ungraded)} item group(s) are not graded yet; grade every item."}
        )
    criminal_items = [g for g in grades.values() if criminal_under(g, given.mapping)]
    if not given.criminal and criminal_items:
        law = LawMapping(given.mapping).label
        raise DecisionErrors(
            {
                "criminal": f"{len(criminal_items)} item(s) are graded criminal under {law}; "
                "a case with criminal items cannot be closed."
            }
        )
    if given.criminal and not criminal_items and not given.notes:
        raise DecisionErrors(
            {"notes": "No item is graded criminal: say in the notes why the case is."}
        )


def qa_reason(user: Any) -> str:
    """Why this decision goes to QA, or "" if it does not."""
    profile = profile_for(user)
    if profile.in_training:
        return QaReason.TRAINING
    if profile.full_qa_until is not None and profile.full_qa_until > timezone.now():
        return QaReason.PERIOD
    if secrets.randbelow(100) < settings.QA_SHARE_PERCENT:
        return QaReason.SAMPLED
    return QaReason.NOT_SAMPLED


def decide(case: Case, user: Any, given: DecisionInput, groups: list[Group]) -> Decision:
    """Record the decision, move the case on or close it, and queue what follows. The
    caller holds the claim; everything here happens together or not at all."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not _decidable(locked):
            raise DecisionErrors({"case": f"This case is {locked.get_state_display()} already."})
        drafts = MediaGrade.objects.select_for_update().filter(
            case=locked, stage=Stage.FIRST, decision__isnull=True, review__isnull=True
        )
        grades = {g.media_id: g for g in drafts}
        check_against_grades(given, groups, grades)
        decision = Decision.objects.create(
            case=locked,
            analyst=user,
            criminal=given.criminal,
            mapping=given.mapping,
            closure_reason=given.closure_reason,
            site_type=given.site_type,
            commercial=given.commercial,
            disguised=given.disguised,
            tor=given.tor,
            notes=given.notes,
            qa=qa_reason(user),
        )
        drafts.update(decision=decision)
        if decision.qa:
            Review.objects.create(decision=decision)
        held = holds.held_from_the_start(decision)
        if held:
            decision.held_for_qa, decision.hold_reason = True, held
            decision.save(update_fields=["held_for_qa", "hold_reason"])
        to_state = CaseState.AWAITING_ACTION if given.criminal else CaseState.CLOSED
        why = f"decision {decision.pk}" + (f"; held until QA agrees ({held})" if held else "")
        transition(locked, to_state, actor=user, reason=why)
        _drop_claim(locked)
        record(
            "assessment.decided",
            actor=user,
            obj=locked,
            data={
                "decision": decision.pk,
                "criminal": given.criminal,
                "mapping": given.mapping,
                "closure_reason": given.closure_reason,
                "items": len(grades),
                "qa": decision.qa,
                "held_for_qa": held,
            },
        )
        if not held:
            pipeline.start("tell_reporters", decision.pk)
        if given.criminal and not held:
            if not decision.qa:
                # A decision under QA is listed by act_on, once no routing rule holds it.
                worst = max(
                    (g.uk_category for g in grades.values() if g.uk_category),
                    key=severity_rank,
                    default="",
                )
                pipeline.start("list_url", locked, worst)
            pipeline.start("act_on_case", locked.pk)
        if not decision.qa and settings.CONFIRM_UNREVIEWED_GRADES:
            tasks.confirm_grades_task.enqueue(decision.pk)
    case.state = to_state
    return decision


def _decidable(case: Case) -> bool:
    if case.kind == CaseKind.OTHER:
        return case.state == CaseState.RECEIVED
    return case.state in ASSESSABLE_STATES


def _drop_claim(case: Case) -> bool:
    deleted, _ = Claim.objects.filter(case=case).delete()
    return bool(deleted)
