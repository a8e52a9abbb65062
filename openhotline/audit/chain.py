"""The digest of an event, and verification of the whole chain."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from openhotline.audit.models import GENESIS, AuditEvent, AuditHead


def event_digest(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: object,
    prev_digest: str,
) -> str:
    canonical = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
            "prev": prev_digest,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_of(event: AuditEvent) -> str:
    return event_digest(
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        actor=event.actor,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        data=event.data,
        prev_digest=event.prev_digest,
    )


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, Problem | None]:
    """(number of events checked, the first problem or None)."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for event in _events(batch_size):
        count += 1
        if event.seq != expected_seq:
            return count, Problem(expected_seq, f"event {expected_seq} is missing")
        if event.prev_digest != prev:
            return count, Problem(event.seq, "does not follow the previous event (prev_digest)")
        if digest_of(event) != event.digest:
            return count, Problem(event.seq, "content was altered (digest mismatch)")
        prev, expected_seq = event.digest, expected_seq + 1
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.digest != prev):
        return count, Problem(
            last_seq + 1, f"the log ends at {last_seq} but {head.seq} events were written"
        )
    return count, None


def _events(batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
