"""Grading a group of media: checking what was entered, and the rule that nobody grades
what they have not seen — unless a known hash's grade is confirmed as it stands."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from openhotline import grading
from openhotline.assessment.groups import Group
from openhotline.assessment.models import MediaGrade, Review, Sex, Stage, Via
from openhotline.assessment.welfare import revealed_media
from openhotline.cases.models import Case

FLAGS = ("self_generated", "sextortion", "ai_generated", "non_photographic", "collage")
FLAG_LABELS = {
    "self_generated": "Self-generated",
    "sextortion": "Sexually coerced extortion",
    "ai_generated": "AI-generated",
    "non_photographic": "Non-photographic (UK prohibited image)",
    "collage": "Grid or collage",
}


class GradeErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class GradeRefused(Exception):
    """Grading is not allowed as asked (not seen, not held); the message says why."""


@dataclass(frozen=True)
class GradeInput:
    grade: str
    age_band: str = ""
    children: int | None = None
    sex: str = Sex.UNKNOWN
    self_generated: bool = False
    sextortion: bool = False
    ai_generated: bool = False
    non_photographic: bool = False
    collage: bool = False

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.grade, self.age_band, self.non_photographic)

    @property
    def is_csam(self) -> bool:
        return self.grade in grading.ACTIVITIES


def parse_grade(data: Mapping[str, Any]) -> GradeInput:
    """A checked grade from form fields; every problem named at once. For material that
    is not CSAM the child's details do not apply and are dropped."""
    errors: dict[str, str] = {}
    grade = str(data.get("grade", "")).strip()
    if grade not in grading.GRADES:
        errors["grade"] = "Choose what the item shows (or why it is not CSAM)."
    if grade and grade not in grading.ACTIVITIES and not errors:
        return GradeInput(grade=grade)
    age_band = str(data.get("age_band", "")).strip()
    if age_band not in grading.AGE_BANDS:
        errors["age_band"] = "Choose the age band of the youngest child."
    children: int | None = None
    raw_children = str(data.get("children", "")).strip()
    if raw_children:
        try:
            children = int(raw_children)
            if not 1 <= children <= 99:
                raise ValueError
        except ValueError:
            errors["children"] = "Give the number of children as a whole number from 1 to 99."
    sex = str(data.get("sex", "") or Sex.UNKNOWN).strip()
    if sex not in Sex.values:
        errors["sex"] = f"Choose one of {', '.join(Sex.values)}."
    if errors:
        raise GradeErrors(errors)
    flags = {name: str(data.get(name, "")).lower() in {"1", "on", "true", "yes"} for name in FLAGS}
    return GradeInput(grade=grade, age_band=age_band, children=children, sex=sex, **flags)


def grade_group(
    case: Case,
    group: Group,
    user: Any,
    given: GradeInput,
    *,
    stage: str = Stage.FIRST,
    review: Review | None = None,
) -> list[MediaGrade]:
    """Record one person's grade for every item of a group (a draft until the decision or
    the review is submitted; grading again replaces it)."""
    suggestion = group.suggestion
    seen = revealed_media(user, case) & set(group.media_ids)
    if suggestion is not None and suggestion.key == given.key:
        confirmed_known = True
    elif seen:
        confirmed_known = False
    elif suggestion is not None:
        raise GradeRefused(
            "This grade differs from the known hash's; reveal the item before changing it."
        )
    else:
        raise GradeRefused("Reveal the item before grading it.")
    meaning = grading.classify(given.grade, given.age_band or None, given.non_photographic)
    looked_at = group.lead.media.pk if group.lead.media.pk in seen else min(seen, default=None)
    saved = []
    with transaction.atomic():
        for item in group.items:
            if confirmed_known:
                via, group_of = Via.KNOWN_MATCH, None
                match_id = item.suggestion.match_id if item.suggestion else None
            elif item.media.pk in seen:
                via, group_of, match_id = Via.REVEALED, None, None
            else:
                via, group_of, match_id = Via.GROUP, looked_at, None
            values = {
                "grader": user,
                "grade": given.grade,
                "age_band": given.age_band,
                "children": given.children,
                "sex": given.sex,
                **{name: getattr(given, name) for name in FLAGS},
                "uk_category": meaning.uk or "",
                "interpol_baseline": meaning.interpol_baseline,
                "vics_category": meaning.vics,
                "via": via,
                "group_of_id": group_of,
                "match_id": match_id,
                "graded_at": timezone.now(),
            }
            grade, _ = MediaGrade.objects.update_or_create(
                case=case,
                media=item.media,
                stage=stage,
                decision=review.decision if review is not None else None,
                review=review,
                defaults=values,
            )
            saved.append(grade)
    return saved


def draft_grades(
    case: Case, stage: str = Stage.FIRST, review: Review | None = None
) -> dict[int, MediaGrade]:
    """The grades being made now, by media id: the analyst's before the decision, or a
    reviewer's within their review."""
    rows = MediaGrade.objects.filter(case=case, stage=stage, review=review)
    if review is None:
        rows = rows.filter(decision__isnull=True)
    return {g.media_id: g for g in rows}
