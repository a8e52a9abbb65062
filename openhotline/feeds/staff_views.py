"""Staff pages for the feeds maintained by hand: the Keyword List, Domain Alerts, Virtual
Currency Alerts and the Non-Photographic Imagery URL List.

Every staff role may look; analysts, QA reviewers and hotline managers add and remove
entries (`editors_only`; anyone else's attempt is refused and audited). Changes go through
the feed change log (`services.add` / `services.remove`), so members see them in their next
delta, and each one is an audit event in the same transaction.
"""

import contextlib
from typing import Any

import idna
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from openhotline.accounts.access import role_required, staff_required
from openhotline.accounts.models import Role
from openhotline.audit.services import record
from openhotline.feeds import services
from openhotline.feeds.entries import HAND_FEEDS, normalise_term
from openhotline.feeds.models import Feed, FeedChange, FeedItem, FeedName
from openhotline.feeds.staff_forms import ENTRY_FORMS, EntryForm, RemoveForm

PAGE_SIZE = 50
EDITORS = frozenset({Role.ANALYST, Role.QA_REVIEWER, Role.MANAGER})
editors_only = role_required(
    EDITORS, refusal="feeds.entries_refused", who="Analysts, QA reviewers and hotline managers"
)

DESCRIPTIONS: dict[str, str] = {
    FeedName.KEYWORD_LIST: "Words and phrases offenders use to find or label child sexual "
    "abuse material; members use them to moderate searches and text.",
    FeedName.DOMAIN_ALERTS: "Domains whose sites hop between addresses or show other content "
    "to most visitors, to disguise child sexual abuse material.",
    FeedName.VIRTUAL_CURRENCY_ALERTS: "Cryptocurrency addresses that receive payment for "
    "child sexual abuse material.",
    FeedName.NPI_URL_LIST: "Addresses of non-photographic images (drawings, computer-generated "
    "images) that are prohibited images of children under UK law.",
}

# What each feed's table shows: (heading, data field, CSS class).
COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    FeedName.KEYWORD_LIST: (
        ("Term", "term", ""), ("Language", "language", ""), ("Kind", "kind", ""),
        ("Note", "note", ""),
    ),
    FeedName.DOMAIN_ALERTS: (
        ("Domain", "domain", "url"), ("Shown as", "unicode", ""), ("Why", "reason", ""),
        ("Note", "note", ""),
    ),
    FeedName.VIRTUAL_CURRENCY_ALERTS: (
        ("Currency", "currency", ""), ("Address", "address", "digest"), ("Note", "note", ""),
    ),
    FeedName.NPI_URL_LIST: (("Address", "url", "url"), ("Note", "note", "")),
}  # fmt: skip


def _hand_feed(name: str) -> str:
    if name not in HAND_FEEDS:
        raise Http404("Not a feed maintained by hand")
    return name


def _label(name: str) -> str:
    return str(FeedName(name).label)


def can_edit(user: Any) -> bool:
    return getattr(user, "role", "") in EDITORS


@staff_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    feeds = {f.name: f for f in Feed.objects.filter(name__in=HAND_FEEDS)}
    live = dict(
        FeedItem.objects.filter(feed__name__in=HAND_FEEDS, removed_seq=None)
        .values_list("feed__name")
        .annotate(n=Count("pk"))
        .values_list("feed__name", "n")
    )
    rows = [
        {
            "name": name,
            "label": _label(name),
            "description": DESCRIPTIONS[name],
            "live": live.get(name, 0),
            "changed_at": feeds[name].updated_at
            if name in feeds and feeds[name].last_seq
            else None,
        }
        for name in HAND_FEEDS
    ]
    return render(request, "feeds/index.html", {"feeds": rows})


@staff_required
@require_GET
def feed_entries(request: HttpRequest, feed: str) -> HttpResponse:
    return _page(request, _hand_feed(feed))


def _page(
    request: HttpRequest,
    name: str,
    *,
    form: EntryForm | None = None,
    remove_form: RemoveForm | None = None,
) -> HttpResponse:
    """The feed's page; a form just posted with errors is shown in its place (422)."""
    query = request.GET.get("q", "").strip()[:200]
    live = FeedItem.objects.filter(feed__name=name, removed_seq=None)
    items = live.filter(_matching(name, query)) if query else live
    try:
        before = int(request.GET.get("before", "0"))
    except ValueError:
        before = 0
    if before > 0:
        items = items.filter(added_seq__lt=before)
    page = list(items.order_by("-added_seq")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    added = dict(
        FeedChange.objects.filter(
            feed__name=name, seq__in=[item.added_seq for item in page]
        ).values_list("seq", "at")
    )
    columns = COLUMNS[name]
    rows: list[dict[str, Any]] = [
        {
            "key": item.key,
            "cells": [(item.data.get(field) or "", css) for _, field, css in columns],
            "added_at": added.get(item.added_seq),
        }
        for item in page
    ]
    # A removal refused for want of a reason is shown on its row, with what was typed.
    remove_errors: list[str] = []
    if remove_form is not None:
        remove_errors = [str(e) for errors in remove_form.errors.values() for e in errors]
        for row in rows:
            if row["key"] == remove_form.data.get("key"):
                row["remove_errors"] = remove_errors
                row["remove_reason"] = remove_form.data.get("reason", "")
                remove_errors = []
    context = {
        "feed": name,
        "label": _label(name),
        "description": DESCRIPTIONS[name],
        "headings": [heading for heading, _, _ in columns],
        "rows": rows,
        "live": live.count(),
        "q": query,
        "next": page[-1].added_seq if more else None,
        "can_edit": can_edit(request.user),
        "form": form or ENTRY_FORMS[name](),
        "remove_errors": remove_errors,  # those of a row not on this page
    }
    failed = form is not None or remove_form is not None
    return render(request, "feeds/feed.html", context, status=422 if failed else 200)


def _matching(name: str, query: str) -> Q:
    """Entries whose key or note contains `query`, as typed or in the feed's key form."""
    spellings = {query}
    if name == FeedName.KEYWORD_LIST:
        spellings.add(normalise_term(query))
    elif name == FeedName.DOMAIN_ALERTS:
        with contextlib.suppress(idna.IDNAError, UnicodeError):  # not a name: as typed only
            spellings.add(idna.encode(query.lower(), uts46=True).decode("ascii"))
    condition = Q(data__note__icontains=query)
    for spelling in spellings:
        condition |= Q(key__icontains=spelling)
    return condition


@editors_only
@require_POST
def add_entry(request: HttpRequest, feed: str) -> HttpResponse:
    name = _hand_feed(feed)
    form = ENTRY_FORMS[name](request.POST)
    if not form.is_valid():
        return _page(request, name, form=form)
    key, data = form.entry_key, form.entry_data
    who = request.user.get_username()
    with transaction.atomic():
        listed = FeedItem.objects.filter(feed__name=name, key=key, removed_seq=None).exists()
        how = "updated" if listed else "added"
        changed = services.add(name, key, data, reason=f"staff {who}: {how} by hand")
        if changed:
            record("feeds.entry_added", actor=request.user, obj=services.feed(name),
                   data={"feed": name, "key": key, "updated": listed})  # fmt: skip
    shown = _shown(key)
    if not changed:
        messages.info(request, f"{shown} was already listed as it is: nothing changed.")
    elif listed:
        messages.success(request, f"{shown} was already listed: its details are updated.")
    else:
        messages.success(request, f"{shown} is added to the {_label(name)}.")
    return redirect("feeds:feed", feed=name)


@editors_only
@require_POST
def remove_entry(request: HttpRequest, feed: str) -> HttpResponse:
    name = _hand_feed(feed)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _page(request, name, remove_form=form)
    key, why = form.cleaned_data["key"], form.cleaned_data["reason"]
    with transaction.atomic():
        removed = services.remove(name, key, reason=f"staff {request.user.get_username()}: {why}")
        if removed:
            record("feeds.entry_removed", actor=request.user, obj=services.feed(name),
                   data={"feed": name, "key": key, "reason": why})  # fmt: skip
    if removed:
        messages.success(request, f"{_shown(key)} is removed from the {_label(name)}.")
    else:
        messages.error(request, f"{_shown(key)} was not listed (removed already?).")
    return redirect("feeds:feed", feed=name)


def _shown(key: str) -> str:
    return f"“{key[:80]}…”" if len(key) > 80 else f"“{key}”"
