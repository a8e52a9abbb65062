"""What follows a decision, as a background step that takes ids and is safe to run twice:
putting confirmed grades into the own hash list. (Telling the reporters is
`casefile.tasks`, handed on through `openhotline.pipeline`.)"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openhotline.assessment.groups import provenance
from openhotline.assessment.models import Decision
from openhotline.assessment.standing import final_grades
from openhotline.audit.services import record
from openhotline.signals.lists import import_records
from openhotline.signals.models import HashList, ListEntry, ListSource, MediaHash
from openhotline.signals.records import EntryRecord, FieldError, RecordErrors, build_record


def own_list() -> HashList:
    hash_list, _ = HashList.objects.get_or_create(
        name=settings.OWN_HASH_LIST,
        defaults={
            "source": ListSource.OWN,
            "description": "Media this hotline's analysts graded as criminal",
            # The hotline's own grading is the one list members get without a manager
            # choosing it: every other source starts unshared (issue 14).
            "share_with_members": True,
        },
    )
    return hash_list


def _external_id(media_id: int) -> str:
    return f"openhotline-media-{media_id}"


def confirm_grades(decision_id: int, actor: Any = None) -> str:
    """Put the decision's standing criminal grades into the own hash list, once."""
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision_id)
        if decision.grades_confirmed_at is not None:
            return "already confirmed"
        grades = [g for g in final_grades(decision).values() if g.is_csam]
        hashes: dict[int, dict[str, str]] = {}
        quality: dict[int, int | None] = {}
        for h in MediaHash.objects.filter(media_id__in=[g.media_id for g in grades]).exclude(
            value=""
        ):
            hashes.setdefault(h.media_id, {})[h.hash_type] = h.value
            if h.hash_type == "pdq":
                quality[h.media_id] = h.quality
        rows: list[tuple[str, EntryRecord | None, list[FieldError]]] = []
        for grade in grades:
            where = f"media {grade.media_id}"
            try:
                entry = build_record(
                    {
                        **hashes.get(grade.media_id, {}),
                        "external_id": _external_id(grade.media_id),
                        "grade": grade.grade,
                        "age_band": grade.age_band or None,
                        "non_photographic": grade.non_photographic,
                        "first_seen": grade.media.first_seen_at.date().isoformat(),
                        "provenance": provenance(decision.case_id, decision.pk),
                        "pdq_quality": quality.get(grade.media_id),
                    }
                )
            except RecordErrors as exc:
                rows.append((where, None, exc.errors))
                continue
            rows.append((where, entry, []))
        hash_list = own_list()
        # Landing the entries queues the re-match of open cases holding the same media
        # (signals.rematch): they show pre-graded, "graded in case #N".
        summary = import_records(hash_list, rows, source="assessment", actor=actor)
        for grade in grades:  # the media each entry was graded from (a few per case)
            ListEntry.objects.filter(
                hash_list=hash_list, external_id=_external_id(grade.media_id)
            ).update(source_media_id=grade.media_id)
        decision.grades_confirmed_at = timezone.now()
        decision.save(update_fields=["grades_confirmed_at"])
        record(
            "assessment.grades_confirmed",
            actor=actor,
            obj=decision,
            data={"list": settings.OWN_HASH_LIST, **summary.as_dict()},
        )
    return f"{summary.landed} entr(y/ies) in {settings.OWN_HASH_LIST}"
