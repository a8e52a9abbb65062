"""Staff pages for hash lists, their entries and matches, and "why did this match".

Every staff role may look; only hotline managers and administrators change lists,
retire or restore entries and add allow-list hashes (`_manager_only`). No page here
shows media: the why view compares hashes, and links to the case, whose media views
are blurred and audited.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openhotline.accounts.access import staff_required
from openhotline.accounts.models import Role, User
from openhotline.audit.services import record
from openhotline.cases.models import Case
from openhotline.signals import pdq_store
from openhotline.signals.lists import list_changed, restore_entry, retire_entry, set_sharing
from openhotline.signals.models import (
    AllowedHash,
    EntryHash,
    HashList,
    ListEntry,
    ListSource,
    Match,
)
from openhotline.signals.services import lookup_key
from openhotline.signals.types import HASH_TYPES, PDQ, BadHash

PAGE_SIZE = 50
LIST_MANAGERS = frozenset({Role.MANAGER, Role.ADMINISTRATOR})

View = Callable[..., HttpResponse]


def _staff(request: HttpRequest) -> User:
    """The signed-in user (the staff door has let only them through)."""
    assert isinstance(request.user, User)
    return request.user


def can_manage(user: Any) -> bool:
    return getattr(user, "role", "") in LIST_MANAGERS


def _manager_only(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage(request.user):
            record("signals.refused", actor=request.user, obj=None,
                   data={"path": request.path[:200]})  # fmt: skip
            raise PermissionDenied("Hotline managers only.")
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
@require_http_methods(["GET", "POST"])
def hash_lists(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create_list(request)
    lists = HashList.objects.annotate(
        live=Count("entries", filter=Q(entries__retired_at=None), distinct=True),
        retired=Count("entries", filter=Q(entries__retired_at__isnull=False), distinct=True),
    ).order_by("name")
    return render(request, "signals/lists.html", {
        "lists": lists, "sources": ListSource.choices, "can_manage": can_manage(request.user),
        "errors": {}, "form": {},
    })  # fmt: skip


@_manager_only
def _create_list(request: HttpRequest) -> HttpResponse:
    form = {k: request.POST.get(k, "").strip() for k in ("name", "source", "description")}
    errors: dict[str, str] = {}
    # Every new list starts unshared, own grading too: sharing is its own decision.
    hash_list = HashList(name=form["name"], source=form["source"], description=form["description"],
                         share_with_members=False)  # fmt: skip
    try:
        hash_list.full_clean()
    except Exception as exc:  # ValidationError: shown next to its fields
        errors = {k: " ".join(v) for k, v in getattr(exc, "message_dict", {}).items()}
    if errors:
        lists = HashList.objects.order_by("name")
        return render(request, "signals/lists.html", {
            "lists": lists, "sources": ListSource.choices, "can_manage": True,
            "errors": errors, "form": form,
        }, status=400)  # fmt: skip
    with transaction.atomic():
        hash_list.save()
        record("signals.list_created", actor=request.user, obj=hash_list,
               data={"name": hash_list.name, "source": hash_list.source})  # fmt: skip
    messages.success(request, f"Hash list {hash_list.name} created.")
    return redirect("signals:list", name=hash_list.name)


def _page_before(rows: Any, request: HttpRequest) -> tuple[list[Any], int | None]:
    """One page of rows ordered by descending id, after the `before` id cursor; the
    cursor of the next page, or None on the last."""
    try:
        before = int(request.GET.get("before", "0"))
    except ValueError:
        before = 0
    if before:
        rows = rows.filter(pk__lt=before)
    page = list(rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    return page[:PAGE_SIZE], page[PAGE_SIZE - 1].pk


def _entry_search(entries: Any, query: str) -> Any:
    """Entries whose hash, external id or series is `query` (hash values normalised)."""
    query = query.strip()
    if not query:
        return entries
    keys = {lookup_key(query.lower())}
    for hash_type in HASH_TYPES.values():
        try:
            keys.add(lookup_key(hash_type.normalize(query)))
        except BadHash:
            continue
    return entries.filter(
        Q(hashes__lookup_key__in=keys) | Q(external_id=query) | Q(series__iexact=query)
    ).distinct()


@staff_required
@require_GET
def hash_list(request: HttpRequest, name: str) -> HttpResponse:
    the_list = get_object_or_404(HashList, name=name)
    query = request.GET.get("q", "")[:2000]
    show = request.GET.get("show", "live")
    entries = the_list.entries.order_by("-pk")
    if show == "retired":
        entries = entries.filter(retired_at__isnull=False)
    elif show != "all":
        show = "live"
        entries = entries.filter(retired_at=None)
    entries = _entry_search(entries, query)
    page, next_id = _page_before(entries.prefetch_related("hashes"), request)
    return render(request, "signals/list.html", {
        "list": the_list, "entries": page, "next": next_id,
        "q": query, "show": show, "can_manage": can_manage(request.user),
        "allowed": the_list.allowed.select_related("added_by").order_by("-added_at")[:200],
        "hash_types": list(HASH_TYPES), "match_count": the_list.matches.count(),
    })  # fmt: skip


def _settings_of(hash_list: HashList) -> dict[str, Any]:
    return {"enabled": hash_list.enabled, "pdq_threshold": hash_list.pdq_threshold,
            "photodna_threshold": hash_list.photodna_threshold}  # fmt: skip


@staff_required
@require_POST
@_manager_only
def list_settings(request: HttpRequest, name: str) -> HttpResponse:
    """Matching settings. Sharing with members is not among them (`list_sharing`)."""
    the_list = get_object_or_404(HashList, name=name)
    before = _settings_of(the_list)
    the_list.enabled = request.POST.get("enabled") == "on"
    try:
        the_list.pdq_threshold = int(request.POST.get("pdq_threshold", ""))
        raw = request.POST.get("photodna_threshold", "").strip()
        the_list.photodna_threshold = float(raw) if raw else None
        if not 0 <= the_list.pdq_threshold <= 64:
            raise ValueError("PDQ threshold must be 0 to 64")
        if the_list.photodna_threshold is not None and not 0 <= the_list.photodna_threshold <= 3100:
            raise ValueError("PhotoDNA threshold must be 0 to 3100")
    except ValueError as exc:
        messages.error(request, f"Not saved: {exc}")
        return redirect("signals:list", name=name)
    the_list.updated_at = timezone.now()
    after = _settings_of(the_list)
    with transaction.atomic():
        the_list.save(update_fields=[*after, "updated_at"])
        record("signals.list_changed", actor=request.user, obj=the_list,
               data={"before": before, "after": after})  # fmt: skip
        if before["enabled"] != after["enabled"]:
            list_changed(the_list)
    messages.success(request, "Settings saved.")
    return redirect("signals:list", name=name)


@staff_required
@require_http_methods(["GET", "POST"])
@_manager_only
def list_sharing(request: HttpRequest, name: str) -> HttpResponse:
    """Share a list with members or stop, after the manager confirms by typing the list's
    name: a police list's entries reach every member's copy, and unsharing rewrites the
    feed's history, so neither is a checkbox."""
    the_list = get_object_or_404(HashList, name=name)
    error = ""
    if request.method == "POST":
        share = request.POST.get("share", "")
        if share not in ("yes", "no"):
            error = "Say whether to share the list or stop sharing it."
        elif request.POST.get("confirm", "").strip() != the_list.name:
            error = f"Not changed: type the list's name, {the_list.name}, to confirm."
        else:
            done = set_sharing(the_list, share == "yes", actor=request.user)
            if not done:
                word = "shared" if share == "yes" else "not shared"
                messages.info(request, f"Nothing changed: the list was {word} already.")
            elif share == "yes":
                messages.success(request, "Shared: its live entries go to members' Hash List.")
            else:
                messages.success(request, "No longer shared: its entries are being withdrawn "
                                          "from members' Hash List and its history.")  # fmt: skip
            return redirect("signals:list", name=name)
    live = the_list.entries.filter(retired_at=None).count()
    return render(request, "signals/sharing.html", {
        "list": the_list, "live": live, "error": error,
    }, status=400 if error else 200)  # fmt: skip


@staff_required
@require_POST
@_manager_only
def allow_hash(request: HttpRequest, name: str) -> HttpResponse:
    the_list = get_object_or_404(HashList, name=name)
    hash_type = request.POST.get("hash_type", "")
    reason = request.POST.get("reason", "").strip()[:500]
    if hash_type not in HASH_TYPES:
        messages.error(request, f"Not added: unknown hash type {hash_type[:20]!r}.")
        return redirect("signals:list", name=name)
    if not reason:
        messages.error(request, "Not added: say why this hash must never match.")
        return redirect("signals:list", name=name)
    try:
        value = HASH_TYPES[hash_type].normalize(request.POST.get("value", ""))
    except BadHash as exc:
        messages.error(request, f"Not added: {exc}")
        return redirect("signals:list", name=name)
    try:
        with transaction.atomic():
            allowed = AllowedHash.objects.create(
                hash_list=the_list, hash_type=hash_type, value=value,
                lookup_key=lookup_key(value), reason=reason, added_by=_staff(request),
            )  # fmt: skip
            record("signals.hash_allowed", actor=request.user, obj=the_list,
                   data={"hash_type": hash_type, "value": value[:100], "reason": reason,
                         "allowed": allowed.pk})  # fmt: skip
            # The members' Hash List stops carrying it (the list is walked again).
            list_changed(the_list)
    except IntegrityError:
        messages.error(request, "Not added: that hash is on this list's allow-list already.")
        return redirect("signals:list", name=name)
    messages.success(request, "Added to the allow-list: it will not match in this list again.")
    return redirect("signals:list", name=name)


@staff_required
@require_GET
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(ListEntry.objects.select_related("hash_list"), pk=entry_id)
    return render(request, "signals/entry.html", {
        "entry": entry,
        "hashes": entry.hashes.order_by("hash_type"),
        "changes": entry.changes.select_related("actor").order_by("-at", "-pk"),
        "matches": entry.matches.select_related("media").order_by("-matched_at")[:100],
        "can_manage": can_manage(request.user),
    })  # fmt: skip


@staff_required
@require_POST
@_manager_only
def entry_retire(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(ListEntry, pk=entry_id)
    reason = request.POST.get("reason", "")
    try:
        done = retire_entry(entry, reason, actor=request.user)
    except ValueError as exc:
        messages.error(request, f"Not retired: {exc}.")
        return redirect("signals:entry", entry_id=entry.pk)
    if done:
        pdq_store.remove(list(EntryHash.objects.filter(entry=entry).values_list("pk", flat=True)))
    messages.success(request, "Entry retired." if done else "The entry was retired already.")
    return redirect("signals:entry", entry_id=entry.pk)


@staff_required
@require_POST
@_manager_only
def entry_restore(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(ListEntry, pk=entry_id)
    done = restore_entry(entry, request.POST.get("reason", "").strip(), actor=request.user)
    messages.success(request, "Entry restored." if done else "The entry was not retired.")
    return redirect("signals:entry", entry_id=entry.pk)


@staff_required
@require_GET
def matches(request: HttpRequest) -> HttpResponse:
    rows = Match.objects.select_related("entry", "hash_list", "allowed_by").order_by("-pk")
    list_name = request.GET.get("list", "")[:100]
    if list_name:
        rows = rows.filter(hash_list__name=list_name)
    page, next_id = _page_before(rows, request)
    return render(request, "signals/matches.html", {
        "matches": page, "next": next_id, "list_name": list_name,
        "lists": HashList.objects.order_by("name").values_list("name", flat=True),
    })  # fmt: skip


@staff_required
@require_GET
def match_detail(request: HttpRequest, match_id: int) -> HttpResponse:
    """Why did this match: the two hashes side by side, how far apart against which
    threshold, the list, and where the entry came from."""
    match = get_object_or_404(
        Match.objects.select_related("entry", "hash_list", "allowed_by__added_by", "media"),
        pk=match_id,
    )
    cases = Case.objects.filter(captures__items__media=match.media_id).distinct()[:20]
    return render(request, "signals/match.html", {
        "match": match, "entry": match.entry, "cases": cases,
        "bits": _bit_diff(match) if match.hash_type == "pdq" else None,
        "history": match.entry.changes.select_related("actor").order_by("at", "pk"),
    })  # fmt: skip


def _bit_diff(match: Match) -> list[list[bool]] | None:
    """16 rows of 16 booleans: which of the 256 PDQ bits differ."""
    try:
        a, b = PDQ.parse(match.media_value), PDQ.parse(match.entry_value)
    except BadHash:
        return None
    diff = a ^ b
    bits = [bool(diff >> (255 - i) & 1) for i in range(256)]
    return [bits[row * 16 : row * 16 + 16] for row in range(16)]
