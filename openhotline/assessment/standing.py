"""Which grades stand: the analyst's, overlaid by a manager's resolution; what notices,
rechecks, packages and the URL List go by."""

from openhotline.assessment.models import Decision, MediaGrade, Review, Stage
from openhotline.cases.models import Case


def criminal_decision(case: Case) -> Decision | None:
    """The case's latest criminal decision, if any."""
    return Decision.objects.filter(case=case, criminal=True).order_by("-decided_at", "-id").first()


def standing_criminal_grades(case: Case) -> list[MediaGrade]:
    """The standing grades of the case's criminal media (empty without a criminal
    decision): what notices, rechecks and packages are about."""
    decision = criminal_decision(case)
    if decision is None:
        return []
    return [g for g in final_grades(decision).values() if g.is_csam]


def final_grades(decision: Decision) -> dict[int, MediaGrade]:
    """The grades that stand: the analyst's, overlaid by a manager's resolution."""
    first = {g.media_id: g for g in MediaGrade.objects.filter(decision=decision, stage=Stage.FIRST)}
    review = Review.objects.filter(decision=decision).first()
    if review is not None:
        for g in MediaGrade.objects.filter(review=review, stage=Stage.RESOLVED):
            first[g.media_id] = g
    return first
