"""The member portal (/members/): a member organisation's users see their licences, make
and revoke their own API keys within them, and see their usage. Member users sign in on
the same page as staff (password and TOTP) and see nothing of the hotline's casework."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openhotline.accounts.models import Organisation, Role
from openhotline.audit.services import record
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import AccessLog, FeedName, Licence, MemberKey, Membership

View = Callable[..., HttpResponse]
MAX_KEY_DAYS = 730
# Keys in use at once per member: rate limits are per key, so keys cannot be unlimited.
MAX_ACTIVE_KEYS = 10


def member_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined]
            return redirect_to_login(request.get_full_path())
        if getattr(user, "role", "") != Role.MEMBER or user.organisation_id is None:
            record("members.refused", actor=user, obj=None, data={"path": request.path[:200]})
            raise PermissionDenied("Member organisations' users only.")
        return view(request, *args, **kwargs)

    return wrapper


def form_token(request: HttpRequest, purpose: str) -> str:
    """A one-use token for a form that issues a secret: reloading the answer (which
    re-posts) or posting the form twice issues nothing more."""
    token = secrets.token_urlsafe(16)
    tokens = [*request.session.get(f"once:{purpose}", [])[-4:], token]
    request.session[f"once:{purpose}"] = tokens
    return token


def spend_token(request: HttpRequest, purpose: str) -> bool:
    tokens = request.session.get(f"once:{purpose}", [])
    token = request.POST.get("once", "")
    if token not in tokens:
        return False
    request.session[f"once:{purpose}"] = [t for t in tokens if t != token]
    return True


def _organisation(request: HttpRequest) -> Organisation:
    return request.user.organisation  # type: ignore[union-attr,return-value]


def usage(organisation: Organisation, days: int = 30) -> list[Any]:
    """Calls, items, matches and bytes per endpoint and feed over the last `days`."""
    since = timezone.now() - timedelta(days=days)
    return list(
        AccessLog.objects.filter(organisation=organisation, at__gte=since)
        .values("endpoint", "feed")
        .annotate(calls=Count("id"), items=Sum("items"), matched=Sum("matched"), bytes=Sum("bytes"))
        .order_by("endpoint", "feed")
    )


def portal_context(organisation: Organisation) -> dict[str, Any]:
    today = timezone.now().date()
    licences = list(Licence.objects.filter(organisation=organisation).order_by("feed"))
    return {
        "organisation": organisation,
        "licences": licences,
        "usable_feeds": [
            lic.feed for lic in licences if lic.valid_until is None or lic.valid_until >= today
        ],
        "membership": Membership.objects.filter(organisation=organisation).first(),
        "keys": MemberKey.objects.filter(organisation=organisation).order_by("-created_at"),
        "usage": usage(organisation),
        "recent": AccessLog.objects.filter(organisation=organisation)
        .select_related("key")
        .order_by("-at")[:50],
        "feed_names": dict(FeedName.choices),
        "now": timezone.now(),
    }


@member_required
@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = portal_context(_organisation(request))
    return _render(request, {**context, "errors": {}, "form": {}})


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context["once"] = form_token(request, "member-key")
    return render(request, "members/home.html", context, status=status)


def _key_form(
    request: HttpRequest, context: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    form: dict[str, Any] = {
        "name": request.POST.get("name", "").strip(),
        "feeds": request.POST.getlist("feeds"),
        "match": request.POST.get("match") == "on",
        "expires_days": request.POST.get("expires_days", "").strip(),
        "networks": request.POST.get("networks", "").strip(),
    }
    errors: dict[str, str] = {}
    if len(form["name"]) > 100 or any(ord(c) < 32 for c in form["name"]):
        errors["name"] = "A name of at most 100 printable characters."
    if any(feed not in context["usable_feeds"] for feed in form["feeds"]):
        errors["feeds"] = "Choose only feeds your organisation holds a licence for."
    membership = context["membership"]
    if form["match"] and not (membership and membership.can_match):
        errors["match"] = "Your organisation has not been given the matching API."
    active = MemberKey.objects.filter(organisation=context["organisation"], revoked_at=None)
    if active.count() >= MAX_ACTIVE_KEYS:
        errors["name"] = f"You have {MAX_ACTIVE_KEYS} keys in use: revoke one first."
    if not form["feeds"] and not form["match"]:
        errors["feeds"] = "Choose at least one feed, or the matching API."
    days = form["expires_days"]
    if days and (not days.isdigit() or not 1 <= int(days) <= MAX_KEY_DAYS):
        errors["expires_days"] = f"A whole number of days from 1 to {MAX_KEY_DAYS}."
    return form, errors


@member_required
@never_cache
@require_http_methods(["POST"])
def create_key(request: HttpRequest) -> HttpResponse:
    if not spend_token(request, "member-key"):
        # A reload of the page that showed a key, or a second press: nothing more issued.
        return redirect("members:home")
    organisation = _organisation(request)
    context = portal_context(organisation)
    form, errors = _key_form(request, context)
    networks = form["networks"].split()
    if not errors:
        days = int(form["expires_days"]) if form["expires_days"] else None
        try:
            with transaction.atomic():
                issued = issue_key(
                    organisation, feeds=form["feeds"], can_match=form["match"],
                    name=form["name"], allowed_networks=networks,
                    expires_at=timezone.now() + timedelta(days=days) if days else None,
                )  # fmt: skip
                record("feeds.key_created", actor=request.user, obj=issued.key,
                       data={"feeds": form["feeds"], "match": form["match"]})  # fmt: skip
        except ValueError as exc:
            errors["networks"] = f"Not a network: {exc}"
        else:
            return _render(request, {
                **portal_context(organisation), "issued": issued.plaintext,
                "issued_key": issued.key, "errors": {}, "form": {},
            })  # fmt: skip
    return _render(request, {**context, "errors": errors, "form": form}, status=400)


@member_required
@require_POST
def revoke_key(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_object_or_404(MemberKey, key_id=key_id, organisation=_organisation(request))
    revoke(key, request.user)
    return redirect("members:home")


def revoke(key: MemberKey, actor: Any) -> bool:
    with transaction.atomic():
        done = MemberKey.objects.filter(pk=key.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if done:
            record("feeds.key_revoked", actor=actor, obj=key, data={"key": key.key_id})
    return bool(done)
