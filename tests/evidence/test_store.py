"""The sealed store: content-addressed, encrypted, tamper-evident, rotatable."""

import base64
import hashlib
import secrets
from pathlib import Path

import pytest
from django.conf import settings

from openhotline.evidence import store
from openhotline.evidence.models import Blob
from openhotline.evidence.sealing import TamperedEvidence
from tests.evidence.media_samples import make_png

pytestmark = pytest.mark.django_db


def stored_file(blob: Blob) -> Path:
    return Path(store.evidence_storage().path(blob.path))


def test_it_stores_sealed_and_gives_back_the_same_bytes() -> None:
    data = make_png("store-1")
    blob = store.put(data)
    assert store.get(blob) == data
    on_disk = stored_file(blob).read_bytes()
    assert data not in on_disk and data[:64] not in on_disk
    assert len(on_disk) == len(data) + 1 + 12 + 16  # version, nonce, tag


def test_names_are_keyed_digests_that_reveal_nothing() -> None:
    data = make_png("store-2")
    blob = store.put(data)
    assert blob.name != hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(data).hexdigest() not in blob.path
    assert blob.name in blob.path


def test_the_same_bytes_are_stored_once_with_a_fresh_key_per_blob() -> None:
    first, again = store.put(make_png("same")), store.put(make_png("same"))
    other = store.put(make_png("other"))
    assert first.pk == again.pk and Blob.objects.count() == 2
    assert bytes(first.wrapped_key) != bytes(other.wrapped_key)


def test_a_tampered_blob_fails_loudly() -> None:
    blob = store.put(make_png("tamper"))
    path = stored_file(blob)
    sealed = bytearray(path.read_bytes())
    sealed[40] ^= 0x01
    path.write_bytes(bytes(sealed))
    with pytest.raises(TamperedEvidence, match="does not authenticate"):
        store.get(blob)


def test_a_tampered_wrapped_key_fails_loudly() -> None:
    blob = store.put(make_png("tamper-key"))
    wrapped = bytearray(bytes(blob.wrapped_key))
    wrapped[-1] ^= 0x80
    Blob.objects.filter(pk=blob.pk).update(wrapped_key=bytes(wrapped))
    blob.refresh_from_db()
    with pytest.raises(TamperedEvidence):
        store.get(blob)


def test_a_blob_swapped_for_another_fails(settings) -> None:
    one, two = store.put(make_png("swap-1")), store.put(make_png("swap-2"))
    stored_file(one).write_bytes(stored_file(two).read_bytes())
    with pytest.raises(TamperedEvidence):
        store.get(one)


def test_rotation_rewraps_keys_without_touching_blobs(settings) -> None:
    from io import StringIO

    from django.core.management import call_command

    from openhotline.intake.models import Report

    blobs = [store.put(make_png(f"rotate-{n}")) for n in range(5)]
    files_before = {b.pk: stored_file(b).read_bytes() for b in blobs}
    from django.test import Client

    Client().post("/report/", {"urls": "http://x.test/", "contact": "me@example.org"})
    old_key = settings.MASTER_KEY
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    settings.MASTER_KEY, settings.PREVIOUS_MASTER_KEY = new_key, old_key
    # Readable during the rotation, through the previous key.
    assert store.get(blobs[0]) == make_png("rotate-0")
    out = StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "re-wrapped 5 evidence keys" in out.getvalue()
    assert "re-sealed 1 reporter contacts" in out.getvalue()
    settings.PREVIOUS_MASTER_KEY = None
    for blob in Blob.objects.all():
        assert stored_file(blob).read_bytes() == files_before[blob.pk]
        assert store.get(blob).startswith(b"\x89PNG")
    from openhotline.core.secretbox import open_sealed
    from openhotline.intake.services import CONTACT_PURPOSE

    sealed = bytes(Report.objects.get().contact_sealed or b"")
    assert open_sealed(sealed, purpose=CONTACT_PURPOSE) == "me@example.org"
    # A second run has nothing left to do.
    out = StringIO()
    call_command("rotate_master_key", stdout=out)
    assert "re-wrapped 0 evidence keys (5 were already current)" in out.getvalue()


def test_without_the_previous_key_old_blobs_say_why(settings) -> None:
    blob = store.put(make_png("lost-key"))
    settings.MASTER_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(TamperedEvidence, match="OPENHOTLINE_PREVIOUS_MASTER_KEY"):
        store.get(blob)


def test_evidence_lives_under_var_with_owner_only_permissions() -> None:
    blob = store.put(make_png("perms"))
    path = stored_file(blob)
    assert str(path).startswith(str(settings.VAR_DIR))
    assert path.stat().st_mode & 0o077 == 0
