"""Matching captured media against hash lists: exact and PDQ matches become rows, the
case gets a suggested grade and a higher priority, and the allow-list, retirement,
disabled lists and per-list thresholds are obeyed."""

import json
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client

from openhotline.cases.models import Case, Priority
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Media, MediaCheck
from openhotline.evidence.services import request_capture
from openhotline.signals import pdq_store
from openhotline.signals.lists import import_records, retire_entry
from openhotline.signals.matching import find_matches, match_media
from openhotline.signals.models import AllowedHash, HashList, ListEntry, Match, MediaHash
from openhotline.signals.records import build_record
from openhotline.signals.services import lookup_key
from openhotline.signals.types import HashValue
from openhotline.simnet.runner import Simnet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index(settings, tmp_path) -> Iterator[None]:
    settings.VAR_DIR = tmp_path
    pdq_store.forget()
    yield
    pdq_store.forget()


def report(url: str) -> Case:
    response = Client().post(
        "/api/v1/reports", json.dumps({"urls": [url]}), content_type="application/json"
    )
    return Case.objects.get(report_items__report__reference=response.json()["reference"])


def capture(url: str) -> Case:
    case = report(url)
    run_capture(case.captures.get().pk)
    case.refresh_from_db()
    return case


def recapture(case: Case) -> Case:
    run_capture(request_capture(case).pk)
    case.refresh_from_db()
    return case


def flip(hex_value: str, bits: int) -> str:
    """The PDQ hash with its first `bits` bits flipped."""
    number = int(hex_value, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{number:064x}"


def listed(name: str, rows: list[dict[str, object]], **list_fields: object) -> HashList:
    hash_list, _ = HashList.objects.get_or_create(
        name=name, defaults={"source": "police", **list_fields}
    )
    import_records(
        hash_list,
        ((f"line {i}", build_record(row), []) for i, row in enumerate(rows, start=2)),
        source="test",
    )
    return hash_list


def first_image(case: Case) -> Media:
    """The case's first image with a PDQ hash good enough to match on."""
    media = Media.objects.filter(
        sightings__capture__case=case, status=MediaCheck.OK,
        hashes__hash_type="pdq", hashes__usable_for_matching=True,
    ).first()  # fmt: skip
    assert media is not None
    return media


def hash_of(media: Media, hash_type: str) -> str:
    return MediaHash.objects.get(media=media, hash_type=hash_type).value


def test_a_captured_image_in_a_list_becomes_a_match_and_a_suggestion_on_its_case(
    on_simnet: Simnet,
) -> None:
    """GIVEN an image already captured once, WHEN its PDQ (2 bits off) and its MD5 are in
    police lists AND the page is captured again, THEN both match, the case shows the most
    severe grade and is raised to the victim-identified level."""
    first = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    media = first_image(first)
    assert first.priority == Priority.NORMAL and not first.suggested_grade
    listed("caid", [{"pdq": flip(hash_of(media, "pdq"), 2), "grade": "sexual_posing",
                     "external_id": "C-1", "provenance": "CAID 2026-10"}])  # fmt: skip
    listed("partner", [{"md5": hash_of(media, "md5"), "grade": "penetrative", "age_band": "7-10",
                        "victim_identified": True}])  # fmt: skip

    case = recapture(first)

    rows = {m.hash_type: m for m in Match.objects.filter(media=media)}
    assert set(rows) == {"pdq", "md5"}
    assert rows["pdq"].distance == 2 and rows["pdq"].threshold == 31 and rows["pdq"].near_exact
    assert rows["md5"].distance == 0 and rows["md5"].entry.hash_list.name == "partner"
    assert case.suggested_grade == "penetrative" and case.suggested_uk_category == "A"
    assert case.priority == Priority.CONFIRMED_VICTIM
    assert case.matched_media_count == 1


def test_matching_twice_stores_each_match_once(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    media = first_image(case)
    listed("caid", [{"sha256": hash_of(media, "sha256"), "grade": "sexual_posing"}])
    recapture(case)
    recapture(case)
    assert Match.objects.filter(media=media).count() == 1
    assert case.priority == Priority.KNOWN_MATCH and case.suggested_uk_category == "C"


def test_pdq_matches_obey_each_lists_threshold(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    value = hash_of(first_image(case), "pdq")
    listed("strict", [{"pdq": flip(value, 12)}], pdq_threshold=10)
    listed("loose", [{"pdq": flip(value, 31)}])
    listed("beyond", [{"pdq": flip(value, 32)}])
    found = find_matches([HashValue("pdq", value)])
    assert [(c.hash_list.name, c.distance) for c in found] == [("loose", 31.0)]


def test_retired_entries_disabled_lists_and_weak_hashes_never_match(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    value = hash_of(first_image(case), "pdq")
    listed("off", [{"pdq": value}], enabled=False)
    listed("weak", [{"pdq": flip(value, 1), "pdq_quality": 20}])
    retiring = listed("retiring", [{"pdq": flip(value, 3)}])
    assert [c.hash_list.name for c in find_matches([HashValue("pdq", value)])] == ["retiring"]
    retire_entry(ListEntry.objects.get(hash_list=retiring), "false positive", actor=None)
    assert find_matches([HashValue("pdq", value)]) == []
    # A query hash of low quality is never looked up either.
    assert find_matches([HashValue("pdq", value, quality=10, usable_for_matching=False)]) == []


def test_an_allow_listed_hash_cancels_the_match_and_suggests_nothing(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    media = first_image(case)
    value = hash_of(media, "pdq")
    logos = listed("logos", [{"pdq": flip(value, 4), "grade": "sexual_posing"}])
    logo = flip(value, 6)
    allowed = AllowedHash.objects.create(
        hash_list=logos,
        hash_type="pdq",
        value=logo,
        lookup_key=lookup_key(logo),
        reason="site logo",
    )
    recapture(case)
    match = Match.objects.get(media=media)
    assert match.allowed_by == allowed
    assert case.priority == Priority.NORMAL and case.suggested_grade == ""


def test_entries_added_after_the_index_was_built_are_found(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    media = first_image(case)
    listed("early", [{"pdq": flip(hash_of(media, "pdq"), 20)}])
    assert len(match_media(media.pk)) == 1  # builds this process's index
    listed("later", [{"pdq": flip(hash_of(media, "pdq"), 9)}])
    assert {m.hash_list.name for m in match_media(media.pk)} == {"early", "later"}


def test_the_snapshot_is_rebuilt_checked_and_loaded(on_simnet: Simnet, capsys) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    value = hash_of(first_image(case), "pdq")
    listed("caid", [{"pdq": flip(value, n)} for n in range(1, 6)])
    call_command("pdq_index", "rebuild")
    assert "rebuilt: 5 PDQ hashes" in capsys.readouterr().out
    call_command("pdq_index", "check")
    assert "missing 0" in capsys.readouterr().out
    pdq_store.forget()
    assert len(find_matches([HashValue("pdq", value)])) == 5  # from the snapshot
    retire_entry(ListEntry.objects.first(), "mistake", actor=None)  # type: ignore[arg-type]
    call_command("pdq_index", "check")
    assert "stale (retired or deleted since, filtered on read) 1" in capsys.readouterr().out
    assert len(find_matches([HashValue("pdq", value)])) == 4


def test_a_damaged_snapshot_is_rebuilt_from_the_database_not_trusted(on_simnet: Simnet) -> None:
    case = capture(on_simnet.url("gallery-one.test", "/albums/sunrise"))
    value = hash_of(first_image(case), "pdq")
    listed("caid", [{"pdq": flip(value, 3)}])
    call_command("pdq_index", "rebuild")
    path = pdq_store.snapshot_path()
    path.write_bytes(path.read_bytes()[:100])
    pdq_store.forget()
    assert len(find_matches([HashValue("pdq", value)])) == 1
    with pytest.raises(Exception, match="snapshot cannot be read"):
        call_command("pdq_index", "check")
