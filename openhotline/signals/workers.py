"""Work done in other processes. Imports nothing from Django at module level: a spawned
worker loads this module before its initializer has set Django up."""

from pathlib import Path
from typing import Any


def start() -> None:
    import django  # Django is set up here, in the spawned worker

    django.setup()


def hash_file(path: str) -> dict[str, Any]:
    """One file's hashes; never raises (unreadable or unhashable files say why)."""
    from openhotline.signals.types import compute_all  # local import: before django.setup()
    from openhotline.signals.types.sniff import sniff  # local import: before django.setup()

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return {"path": path, "problems": {"read": exc.strerror or str(exc)}}
    kind, mime, _fmt = sniff(data)
    result = compute_all(data, str(kind))
    row: dict[str, Any] = {"path": path, "size": len(data), "kind": str(kind), "mime": mime}
    row["hashes"] = {value.hash_type: value.value for value in result.values}
    pdq = next((v for v in result.values if v.hash_type == "pdq"), None)
    if pdq is not None:
        row["pdq_quality"] = pdq.quality
    if result.failures:
        row["problems"] = dict(result.failures)
    return row
