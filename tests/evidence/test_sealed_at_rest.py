"""No plaintext copy of captured media ever touches disk, not even in temporary files.

GIVEN a page of benign generated images captured from simnet
WHEN  the whole var/ tree and the temporary directories are scanned
THEN  neither the images' bytes (nor their preview bases) nor any 64-byte slice of them
      is found.
"""

import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from openhotline.cases.models import Case
from openhotline.evidence import store
from openhotline.evidence.capture import run_capture
from openhotline.evidence.models import Media
from openhotline.simnet.runner import Simnet

pytestmark = pytest.mark.django_db(transaction=True)


def needles(data: bytes) -> list[bytes]:
    """Slices of the compressed picture data itself, which no other file shares (headers
    and Huffman tables are common to every JPEG, so they make no needles)."""
    return [data[n * len(data) // 8 :][:64] for n in (3, 4, 5, 6)]


def files_under(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        if root.exists():
            found += [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return found


def test_captured_media_is_never_on_disk_in_plaintext(on_simnet: Simnet, analyst) -> None:
    from tests.conftest import verified_client

    url = on_simnet.url("gallery-one.test", "/albums/sunrise")
    Client().post("/report/", {"urls": url})
    case = Case.objects.get()
    run_capture(case.captures.get().pk)
    media = list(Media.objects.select_related("blob", "preview_blob"))
    assert len(media) >= 2
    # Views make previews in memory; exercise them too before scanning.
    from openhotline.assessment.welfare import reveal

    client = verified_client(analyst)
    for item in media:
        token = reveal(analyst, case, item).token
        assert client.get(f"/staff/media/{item.pk}/blurred/").status_code == 200
        assert client.get(f"/staff/media/{item.pk}/original/?reveal={token}").status_code == 200
    plaintexts = [store.get(item.blob) for item in media]
    # The preview bases (small, unblurred) are sealed the same way.
    plaintexts += [store.get(item.preview_blob) for item in media if item.preview_blob]
    assert len(plaintexts) > len(media)
    roots = [
        Path(settings.VAR_DIR),
        Path(tempfile.gettempdir()),
        Path("/var/tmp"),
        Path("/dev/shm"),
    ]
    scanned = 0
    for path in files_under(*roots):
        try:
            content = path.read_bytes()
        except OSError:
            continue
        scanned += 1
        for data in plaintexts:
            for needle in needles(data):
                assert needle not in content, f"plaintext media found in {path}"
    assert scanned > 0
    evidence_files = files_under(Path(settings.VAR_DIR) / "evidence")
    assert len(evidence_files) >= len(media)


def test_the_scan_would_find_a_plaintext_copy(tmp_path: Path) -> None:
    """The control: the same needles do find media written in the clear."""
    from openhotline.simnet.images import make_jpeg

    data = make_jpeg("control", (320, 240))
    (tmp_path / "leak.bin").write_bytes(b"prefix" + data + b"suffix")
    content = (tmp_path / "leak.bin").read_bytes()
    assert all(needle in content for needle in needles(data))
    other = make_jpeg("another", (320, 240))
    assert not any(needle in other for needle in needles(data))
