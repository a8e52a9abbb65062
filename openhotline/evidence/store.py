"""The sealed evidence store: put bytes in, get bytes out, nothing readable on disk.

Plaintext exists only in memory. Storage goes through Django's storage API (the
`evidence` alias: local files by default, S3-compatible storage by setting), which only
ever sees ciphertext.
"""

import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction

from openhotline.evidence.models import Blob
from openhotline.evidence.sealing import blob_name, current_master, master_for, seal, unseal


def evidence_storage() -> Storage:
    return storages["evidence"]


def put(plaintext: bytes) -> Blob:
    """Store bytes sealed; the same bytes twice are one blob. Safe to run concurrently:
    the first row written wins and a loser removes its own file."""
    name = blob_name(plaintext)
    existing = Blob.objects.filter(name=name).first()
    if existing is not None:
        return existing
    sealed, data_key = seal(plaintext, name=name)
    master = current_master()
    storage = evidence_storage()
    path = storage.save(
        f"{name[:2]}/{name[2:4]}/{name}.{secrets.token_hex(4)}", ContentFile(sealed)
    )
    try:
        with transaction.atomic():
            return Blob.objects.create(
                name=name,
                path=path,
                size=len(plaintext),
                wrapped_key=master.wrap(data_key, blob_name=name),
                key_id=master.key_id,
            )
    except IntegrityError:
        storage.delete(path)
        return Blob.objects.get(name=name)


def get(blob: Blob) -> bytes:
    """The plaintext of a blob, in memory. Raises TamperedEvidence if anything was altered."""
    data_key = master_for(blob.key_id).unwrap(bytes(blob.wrapped_key), blob_name=blob.name)
    with evidence_storage().open(blob.path, "rb") as handle:
        sealed = handle.read()
    return unseal(sealed, data_key, name=blob.name)


def rewrap_all(batch_size: int = 500) -> tuple[int, int]:
    """Re-wrap every data key not yet under the current master key. Resumable.

    Returns (re-wrapped, already current). Blobs themselves are not touched.
    """
    current = current_master()
    done = Blob.objects.filter(key_id=current.key_id).count()
    rewrapped = 0
    while True:
        with transaction.atomic():
            batch = list(
                Blob.objects.select_for_update()
                .exclude(key_id=current.key_id)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return rewrapped, done
            for blob in batch:
                old = master_for(blob.key_id)
                data_key = old.unwrap(bytes(blob.wrapped_key), blob_name=blob.name)
                blob.wrapped_key = current.wrap(data_key, blob_name=blob.name)
                blob.key_id = current.key_id
            Blob.objects.bulk_update(batch, ["wrapped_key", "key_id"])
            rewrapped += len(batch)
