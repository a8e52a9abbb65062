"""Open cases are matched again when a list gains entries (issue 15, item 2).

Through the real database and the task queue: every change that gives a list live
entries queues the re-match in its own transaction; the task finds the open cases' media
by exact hash and by PDQ within the list's threshold, from whichever side is cheaper,
stores the matches once and refreshes the cases' suggestions; decided cases, retired
entries, switched-off lists and allow-listed hashes stay out.
"""

import secrets

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from openhotline.cases.models import Case, CaseState, Priority
from openhotline.evidence.models import Media
from openhotline.signals import rematch
from openhotline.signals.lists import import_records, list_changed, restore_entry
from openhotline.signals.models import AllowedHash, HashList, ListEntry, ListSource, Match
from openhotline.signals.records import EntryRecord, build_record
from openhotline.signals.services import hashes_by_media, lookup_key
from tests.assessment.factory import make_case, picture
from tests.tasks import run_due_tasks

pytestmark = pytest.mark.django_db

TASK = "signals.tasks.rematch_entries_task"


def media_of(case: Case) -> list[Media]:
    return list(Media.objects.filter(sightings__capture__case=case).order_by("sightings__id"))


def hashes(media: Media) -> dict[str, str]:
    return hashes_by_media([media.pk])[media.pk]


def record(values: dict[str, str], n: int, **meta: object) -> tuple[str, EntryRecord, list]:
    fields = {"grade": "sexual_posing", "age_band": "11-13", "external_id": f"x-{n}", **meta}
    return (f"row {n}", build_record({**values, **fields}), [])


def noise(n: int) -> tuple[str, EntryRecord, list]:
    """An entry no captured media is near: random hashes."""
    return record({"sha256": secrets.token_hex(32), "pdq": secrets.token_hex(32)}, n)


def police(**kwargs: object) -> HashList:
    return HashList.objects.create(name="police", source=ListSource.POLICE, **kwargs)


def queued() -> list[list]:
    rows = DBTaskResult.objects.filter(task_path__endswith=TASK)
    return [row.args_kwargs["args"] for row in rows]


def pdq_distance(a: Media, b: Media) -> int:
    return (int(hashes(a)["pdq"], 16) ^ int(hashes(b)["pdq"], 16)).bit_count()


@pytest.fixture(params=["entry side", "media side"])
def side(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both search directions must find the same media."""
    if request.param == "media side":
        monkeypatch.setattr(rematch, "MEDIA_SIDE_COST_US", 0)
    else:
        monkeypatch.setattr(rematch, "ENTRY_SIDE_COST_US", 0)
    return str(request.param)


def test_exact_and_pdq_within_the_lists_threshold_match_open_cases_only(side: str) -> None:
    exact, near, far = picture(41), picture(42), picture(32)
    case = make_case([exact, picture(42, 1), picture(32, 1)])
    decided = make_case([picture(44)])
    Case.objects.filter(pk=decided.pk).update(state=CaseState.CLOSED)
    held_exact, held_near, held_far = media_of(case)
    (held_decided,) = media_of(decided)
    sources = make_case([near, far], url="http://sources.test/")  # the pictures as listed
    Case.objects.filter(pk=sources.pk).update(state=CaseState.CLOSED)
    listed_near, listed_far = media_of(sources)
    threshold = pdq_distance(held_near, listed_near)
    assert 8 < threshold < pdq_distance(held_far, listed_far)  # similar, not near-exact
    the_list = police(pdq_threshold=threshold)
    import_records(the_list, [
        record({"sha256": hashes(held_exact)["sha256"]}, 1, grade="penetrative", age_band="3-6"),
        record({"pdq": hashes(listed_near)["pdq"]}, 2),
        record({"pdq": hashes(listed_far)["pdq"]}, 3),
        record({"md5": hashes(held_decided)["md5"]}, 4),
        *[noise(n) for n in range(5, 40)],
    ], source="test")  # fmt: skip
    assert not Match.objects.exists()  # nothing until the worker runs
    assert run_due_tasks(TASK) == ["police: 2 media of 1 open case(s) matched again"]
    found = {(m.media_id, m.hash_type, m.near_exact) for m in Match.objects.all()}
    assert found == {(held_exact.pk, "sha256", True), (held_near.pk, "pdq", False)}
    case.refresh_from_db()
    assert (case.suggested_grade, case.suggested_uk_category) == ("penetrative", "A")
    assert (case.priority, case.matched_media_count) == (Priority.KNOWN_MATCH, 2)
    decided.refresh_from_db()
    assert decided.suggested_grade == "" and decided.priority == Priority.NORMAL


def test_the_rematch_is_queued_with_the_change_and_rolls_back_with_it() -> None:
    case = make_case([picture(45)])
    (held,) = media_of(case)
    the_list = police()
    seen_inside: list[int] = []

    def import_then_fail() -> None:
        with transaction.atomic():
            import_records(the_list, [record({"sha256": hashes(held)["sha256"]}, 1)], source="t")
            seen_inside.append(len(queued()))
            raise RuntimeError("the import's transaction fails")

    with pytest.raises(RuntimeError):
        import_then_fail()
    assert seen_inside == [1]
    assert queued() == [] and not ListEntry.objects.exists()
    import_records(the_list, [noise(n) for n in range(1, 2501)], source="test", batch_size=1000)
    # One task per batch, each naming its entries as one run of ids.
    ranges = [args[1] for args in queued()]
    assert [len(r) for r in ranges] == [1, 1, 1]
    assert sum(hi - lo + 1 for ((lo, hi),) in ranges) == 2500


def test_running_twice_changes_nothing_the_second_time() -> None:
    case = make_case([picture(46)])
    (held,) = media_of(case)
    the_list = police()
    import_records(the_list, [record({"sha256": hashes(held)["sha256"]}, 1)], source="test")
    (args,) = queued()
    assert rematch.rematch_entries(*args).endswith("1 media of 1 open case(s) matched again")
    assert rematch.rematch_entries(*args).endswith("1 media of 1 open case(s) matched again")
    assert Match.objects.count() == 1


def test_retired_entries_never_match_and_a_restore_matches_again(side: str) -> None:
    case = make_case([picture(47)])
    (held,) = media_of(case)
    the_list = police()
    import_records(
        the_list, [record({"sha256": hashes(held)["sha256"]}, 1, retired="yes")], source="test"
    )
    assert run_due_tasks(TASK) == ["police: no open case's media matches"]
    assert not Match.objects.exists()
    restore_entry(ListEntry.objects.get(), "retired by mistake", actor=None)
    assert run_due_tasks(TASK) == ["police: 1 media of 1 open case(s) matched again"]
    assert Match.objects.get().media_id == held.pk


def test_a_list_switched_off_is_not_matched_and_switching_it_on_is(side: str) -> None:
    case = make_case([picture(48)])
    (held,) = media_of(case)
    the_list = police(enabled=False)
    import_records(the_list, [record({"pdq": hashes(held)["pdq"]}, 1), noise(2)], source="test")
    assert queued() == []
    the_list.enabled = True
    the_list.save()
    list_changed(the_list)
    assert run_due_tasks(TASK) == ["police: 1 media of 1 open case(s) matched again"]
    assert Match.objects.get().hash_type == "pdq"


def test_an_allow_listed_hash_stays_cancelled_and_suggests_nothing(side: str) -> None:
    case = make_case([picture(49)])
    (held,) = media_of(case)
    the_list = police()
    value = hashes(held)["sha256"]
    AllowedHash.objects.create(
        hash_list=the_list, hash_type="sha256", value=value, lookup_key=lookup_key(value),
        reason="a common logo",
    )  # fmt: skip
    import_records(the_list, [record({"sha256": value}, 1)], source="test")
    run_due_tasks(TASK)
    assert Match.objects.get().allowed_by is not None
    case.refresh_from_db()
    assert case.suggested_grade == "" and case.priority == Priority.NORMAL


def test_a_long_range_is_read_in_chunks_and_finds_its_last_entry(
    side: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rematch, "CHUNK", 40)
    case = make_case([picture(50)])
    (held,) = media_of(case)
    the_list = police()
    rows = [noise(n) for n in range(1, 300)] + [record({"pdq": hashes(held)["pdq"]}, 300)]
    import_records(the_list, rows, source="test", batch_size=1000)
    (args,) = queued()
    assert args[1] == [[args[1][0][0], args[1][0][0] + 299]]
    assert rematch.rematch_entries(*args).endswith("1 media of 1 open case(s) matched again")


def test_no_open_case_costs_one_query(django_assert_max_num_queries) -> None:
    the_list = police()
    import_records(the_list, [noise(n) for n in range(1, 50)], source="test")
    (args,) = queued()
    with django_assert_max_num_queries(2):
        assert rematch.rematch_entries(*args) == "no open case holds media"


def test_id_ranges() -> None:
    assert rematch.id_ranges([7, 3, 4, 5, 9, 8, 12, 4]) == [[3, 5], [7, 9], [12, 12]]
    assert rematch.id_ranges([]) == []
