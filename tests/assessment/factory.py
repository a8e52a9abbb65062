"""Benign pictures and cases ready for assessment, made at run time.

Pictures are smooth random colour fields (sharp enough for PDQ quality well above 50);
a `variant` is the same picture scaled down a little and re-encoded: a near-duplicate.
"""

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from openhotline import grading
from openhotline.cases.models import Case, CaseKind, CaseState
from openhotline.evidence import store
from openhotline.evidence.media import inspect
from openhotline.evidence.models import Capture, CaptureItem, CaptureState, ItemState, Media
from openhotline.signals.lists import import_records
from openhotline.signals.matching import match_media, suggest_for_case
from openhotline.signals.models import HashList, ListSource, MediaHash
from openhotline.signals.records import EntryRecord, FieldError, build_record
from openhotline.signals.services import hash_media


def picture(seed: int, variant: int = 0, size: int = 256) -> bytes:
    rng = np.random.default_rng(seed)
    small = (rng.random((8, 8, 3)) * 255).astype("uint8")
    image = Image.fromarray(small, "RGB").resize((size, size), Image.Resampling.BICUBIC)
    if variant:
        image = image.resize((size - 16 * variant, size - 16 * variant), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def store_media(data: bytes) -> Media:
    blob = store.put(data)
    facts = inspect(data)
    media, _ = Media.objects.get_or_create(
        blob=blob,
        defaults={
            "kind": facts.kind,
            "mime": facts.mime,
            "format": facts.format,
            "width": facts.width,
            "height": facts.height,
            "status": facts.check,
        },
    )
    hash_media(media.pk, data, media.kind)
    return media


_counter = iter(range(1, 10**9))


def make_case(pictures: Sequence[bytes], *, url: str | None = None) -> Case:
    """A captured URL case showing `pictures`, hashed and matched like a real capture."""
    n = next(_counter)
    url = url or f"http://site-{n}.test/page"
    case = Case.objects.create(
        kind=CaseKind.URL, url=url, host=url.split("/")[2], state=CaseState.CAPTURED,
        report_count=1,
    )  # fmt: skip
    capture = Capture.objects.create(
        case=case, requested_url=url, state=CaptureState.DONE, final_url=url, status_code=200
    )
    for i, data in enumerate(pictures):
        media = store_media(data)
        CaptureItem.objects.create(
            capture=capture, url=f"{url}/{i}.jpg", found_in="img", state=ItemState.STORED,
            media=media,
        )  # fmt: skip
        match_media(media.pk)
    suggest_for_case(case.pk)
    return case


def known_list(
    pictures: Sequence[bytes],
    grade: str = "sexual_posing",
    age_band: str = "7-10",
    name: str = "police-known",
    **meta: object,
) -> HashList:
    """A police list holding these pictures' hashes with a grade (labels on benign
    pictures)."""
    assert grade in grading.GRADES
    hash_list, _ = HashList.objects.get_or_create(name=name, defaults={"source": ListSource.POLICE})
    rows: list[tuple[str, EntryRecord | None, list[FieldError]]] = []
    for i, data in enumerate(pictures):
        media = store_media(data)
        values = {
            h.hash_type: h.value
            for h in MediaHash.objects.filter(media=media).exclude(value="")
            if h.hash_type in ("md5", "sha256", "pdq")
        }
        record = build_record(
            {**values, "external_id": f"{name}-{i}-{media.pk}", "grade": grade,
             "age_band": age_band, **meta}
        )  # fmt: skip
        rows.append((f"row {i}", record, []))
    import_records(hash_list, rows, source="test")
    return hash_list
