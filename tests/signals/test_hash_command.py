"""`openhotline hash`: folders in, one line per file out, bad files reported not fatal."""

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openhotline.simnet.images import make_jpeg, make_png


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.png").write_bytes(make_png("cli-a"))
    (tmp_path / "nested" / "b.jpg").write_bytes(make_jpeg("cli-b"))
    (tmp_path / "broken.jpg").write_bytes(make_jpeg("cli-c")[:200])
    (tmp_path / "notes.txt").write_bytes(b"not an image")
    return tmp_path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    import sys

    real = sys.stderr
    sys.stderr = err
    try:
        call_command("hash", *args, "--jobs", "2", stdout=out)
    finally:
        sys.stderr = real
    return out.getvalue(), err.getvalue()


def test_it_hashes_a_folder_into_json_lines_with_progress(folder: Path) -> None:
    out, err = run(str(folder))
    rows = {Path(row["path"]).name: row for row in map(json.loads, out.splitlines())}
    assert set(rows) == {"a.png", "b.jpg", "broken.jpg", "notes.txt"}
    assert rows["a.png"]["hashes"]["sha256"] == hashlib.sha256(make_png("cli-a")).hexdigest()
    assert len(rows["b.jpg"]["hashes"]["pdq"]) == 64 and rows["b.jpg"]["pdq_quality"] > 0
    assert "pdq" in rows["broken.jpg"]["problems"]
    assert rows["notes.txt"]["kind"] == "other" and "pdq" not in rows["notes.txt"]["hashes"]
    assert "hashed 4/4 files" in err


def test_it_writes_csv(folder: Path) -> None:
    out, _err = run(str(folder / "a.png"), "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["md5"] == hashlib.md5(make_png("cli-a")).hexdigest()  # noqa: S324
    assert row["pdq"] and row["kind"] == "image"


def test_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file or folder"):
        run(str(tmp_path / "nope"))
