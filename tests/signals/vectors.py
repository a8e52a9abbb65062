"""Where the reference vectors live (../shared/vectors beside the repository) and how
tests get at them: a test skips, saying where it looked, when they are absent.
"""

import csv
import os
from pathlib import Path

import pytest

VECTORS = Path(
    os.environ.get("OPENHOTLINE_VECTORS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
)
PDQ_DIR = VECTORS / "pdq"
VPDQ_DIR = VECTORS / "vpdq"
MISSING = (
    f"reference vectors not found at {VECTORS} "
    "(expected ../shared/vectors, or set OPENHOTLINE_VECTORS_DIR)"
)


def pdq_rows(implementation_prefix: str) -> list[dict[str, str]]:
    """Distinct (file, expected hash, quality) rows of expected_hashes.csv for one
    implementation; empty when the vectors are absent."""
    table = PDQ_DIR / "expected_hashes.csv"
    if not table.is_file():
        return []
    seen = set()
    rows = []
    with table.open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = (row["file"], row["expected_pdq"], row["expected_quality"])
            if row["implementation"].startswith(implementation_prefix) and key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def params_or_skip(rows: list[dict[str, str]]) -> list[object]:
    """pytest params named by file, or one skipped param when there are no rows."""
    if not rows:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))]
    return [pytest.param(row, id=Path(row["file"]).name) for row in rows]


def sample_videos() -> list[str]:
    """Names of the sample videos that have an expected vPDQ hash file."""
    videos = VPDQ_DIR / "files" / "tmk" / "sample-videos"
    hashes = VPDQ_DIR / "files" / "vpdq" / "sample-hashes"
    if not videos.is_dir():
        return []
    return sorted(p.stem for p in videos.glob("*.mp4") if (hashes / f"{p.stem}.txt").is_file())


def video_bytes(name: str) -> bytes:
    return (VPDQ_DIR / "files" / "tmk" / "sample-videos" / f"{name}.mp4").read_bytes()


def expected_video_hash(name: str) -> str:
    return (VPDQ_DIR / "files" / "vpdq" / "sample-hashes" / f"{name}.txt").read_text()


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(MISSING)
    return path
