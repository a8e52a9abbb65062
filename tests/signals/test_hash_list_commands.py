"""`import-hashes`, `export-hashes` and `match` from the command line: streamed files in
and out, bad rows by line and field while good rows land, harmless re-imports, and files
matched against the lists."""

import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.audit.models import AuditEvent
from openhotline.signals import pdq_store
from openhotline.signals.models import HashList, ListEntry
from openhotline.signals.types import MD5, PDQ
from openhotline.simnet.images import make_jpeg

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _fresh_index(settings, tmp_path: Path) -> Iterator[None]:
    settings.VAR_DIR = tmp_path / "var"
    pdq_store.forget()
    yield
    pdq_store.forget()


def run(command: str, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a command, progress line included."""
    out, err = io.StringIO(), io.StringIO()
    real = sys.stderr
    sys.stderr = err
    try:
        call_command(command, *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    finally:
        sys.stderr = real
    return status, out.getvalue(), err.getvalue()


def md5(n: int) -> str:
    return hashlib.md5(f"row {n}".encode()).hexdigest()  # noqa: S324 (a test value)


def write_csv(path: Path, rows: int, bad: set[int]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["md5", "grade", "series", "external_id"])
        for n in range(rows):
            value = "not-a-hash" if n in bad else md5(n)
            writer.writerow([value, "sexual_posing", f"series {n % 7}", f"R-{n}"])


def test_an_import_lands_good_rows_and_names_bad_ones_by_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "release.csv"
    write_csv(path, 5000, bad={10, 2500, 4999})
    status, out, err = run("import_hashes", str(path), "--list", "caid", "--create", "police")
    assert status == 1  # some rows were rejected
    assert "4,997 created" in out and "3 rejected" in out
    # Line numbers count the header: row n is on line n + 2.
    assert "line 12: md5: not hex" in err and "line 2502: md5" in err and "line 5001" in err
    assert "imported 5,000 rows" in err  # the progress line
    assert ListEntry.objects.count() == 4997
    event = AuditEvent.objects.get(action="signals.hashes_imported")
    assert event.data["created"] == 4997 and event.data["rejected"] == 3

    status, out, _ = run("import_hashes", str(path), "--list", "caid")
    assert "0 created, 0 updated, 4,997 unchanged" in out
    assert ListEntry.objects.count() == 4997


def test_an_import_needs_a_known_list_a_readable_file_and_a_known_format(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_csv(path, 3, bad=set())
    with pytest.raises(CommandError, match="no hash list named 'nope'"):
        run("import_hashes", str(path), "--list", "nope")
    with pytest.raises(CommandError, match="cannot read"):
        run("import_hashes", str(tmp_path / "missing.csv"), "--list", "x", "--create", "own")
    odd = tmp_path / "release.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(CommandError, match="give --format"):
        run("import_hashes", str(odd), "--list", "x", "--create", "own")
    header = tmp_path / "typo.csv"
    header.write_text("md5,gradee\n" + md5(1) + ",x\n")
    with pytest.raises(CommandError, match="gradee"):
        run("import_hashes", str(header), "--list", "x", "--create", "own")
    assert not ListEntry.objects.exists()


def test_a_vics_file_imports_and_exports_again_in_every_format(tmp_path: Path) -> None:
    status, out, err = run("import_hashes", str(DATA / "vics_sample.json"), "--list", "vics",
                           "--create", "police")  # fmt: skip
    # The sample has one bad media object on purpose; the others land.
    assert status == 1 and "record 3: MD5: wrong length" in err
    count = ListEntry.objects.count()
    assert count > 0
    for fmt in ("csv", "jsonl", "vics"):
        target = tmp_path / f"out.{fmt}"
        run("export_hashes", "--list", "vics", "--format", fmt, "-o", str(target))
        assert target.exists() and not target.with_name(target.name + ".partial").exists()
        status, out, err = run("import_hashes", str(target), "--list", f"again-{fmt}",
                               "--format", fmt, "--create", "partner")  # fmt: skip
        assert status == 0, err
        assert f"{count:,} created" in out
    original = sorted(ListEntry.objects.filter(hash_list__name="vics").values_list(
        "external_id", "vics_category", "victim_identified", "series"))  # fmt: skip
    for fmt in ("csv", "jsonl", "vics"):
        copy = sorted(ListEntry.objects.filter(hash_list__name=f"again-{fmt}").values_list(
            "external_id", "vics_category", "victim_identified", "series"))  # fmt: skip
        assert copy == original, fmt


def test_export_leaves_retired_entries_out_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"md5": md5(1)}) + "\n"
        + json.dumps({"md5": md5(2), "retired": True, "retired_reason": "logo"}) + "\n"
    )  # fmt: skip
    run("import_hashes", str(path), "--list", "x", "--create", "own")
    out_path = tmp_path / "out.jsonl"
    run("export_hashes", "--list", "x", "-o", str(out_path))
    assert [json.loads(line)["md5"] for line in out_path.read_text().splitlines()] == [md5(1)]
    run("export_hashes", "--list", "x", "--include-retired", "-o", str(out_path))
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [(r["md5"], r["retired"]) for r in rows] == [(md5(1), False), (md5(2), True)]
    with pytest.raises(CommandError, match="no hash list named 'ghost'"):
        run("export_hashes", "--list", "ghost", "-o", str(out_path))


def test_match_hashes_files_and_says_why_each_matched(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    photo = make_jpeg("known-photo", (640, 480))
    (folder / "known.jpg").write_bytes(photo)
    (folder / "other.jpg").write_bytes(make_jpeg("something else", (640, 480)))
    (folder / "notes.txt").write_bytes(b"not an image")
    (pdq,) = PDQ.compute(photo, "image")
    (exact,) = MD5.compute(photo, "image")
    near = f"{int(pdq.value, 16) ^ 0b11:064x}"
    listing = tmp_path / "list.jsonl"
    listing.write_text(
        json.dumps({"pdq": near, "grade": "non_penetrative", "provenance": "test release"}) + "\n"
        + json.dumps({"md5": exact.value, "grade": "sexual_posing"}) + "\n"
    )  # fmt: skip
    run("import_hashes", str(listing), "--list", "caid", "--create", "police")
    assert HashList.objects.get().entries.count() == 2

    status, out, err = run("match", str(folder), "--jobs", "1")
    assert status == 0
    results = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert set(results) == {"known.jpg", "other.jpg", "notes.txt"}
    why = {m["hash_type"]: m for m in results["known.jpg"]["matches"]}
    assert why["md5"]["distance"] == 0 and why["md5"]["list"] == "caid"
    if pdq.usable_for_matching:
        assert why["pdq"]["distance"] == 2 and why["pdq"]["threshold"] == 31
        assert why["pdq"]["provenance"] == "test release" and why["pdq"]["near_exact"]
    assert results["other.jpg"]["matches"] == []
    assert "matched 3/3 files, 1 with matches" in err
    _, only, _ = run("match", str(folder), "--jobs", "1", "--only-matches")
    assert [Path(json.loads(line)["path"]).name for line in only.splitlines()] == ["known.jpg"]
