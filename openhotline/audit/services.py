"""Writing audit events. Call `record` last in a transaction: it briefly locks the head."""

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from openhotline.audit.chain import digest_of
from openhotline.audit.models import AuditEvent, AuditHead


def record(
    action: str,
    *,
    actor: Any,
    obj: models.Model | None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor` is a user, or None for the system / an anonymous person."""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_name = actor.get_username() if actor_id is not None else ""
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    payload = data or {}
    # No savepoint of our own: callers' transactions are atomic already, and a statement
    # less keeps the head locked for less time.
    with transaction.atomic(savepoint=False):
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=actor_id,
            actor=actor_name,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=payload,
            prev_digest=head.digest,
        )
        event.digest = digest_of(event)
        event.save()
        AuditHead.objects.filter(pk=1).update(seq=event.seq, digest=event.digest)
    return event
