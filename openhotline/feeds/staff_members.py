"""Staff pages for member organisations (/staff/members/): hotline managers and
administrators add members, licence feeds (and the Hash List's tier), allow the matching
API and image matching, issue sign-ins to members' users, see usage and revoke keys.
Every change is an audit event."""

from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from openhotline.accounts.access import role_required
from openhotline.accounts.credentials import issue_credentials
from openhotline.accounts.models import Organisation, OrganisationKind, Role, User
from openhotline.audit.services import record
from openhotline.feeds.member_views import form_token, portal_context, revoke, spend_token
from openhotline.feeds.models import FeedName, Licence, MemberKey, Membership, Tier

admins_only = role_required(
    frozenset({Role.MANAGER, Role.ADMINISTRATOR}), refusal="member_admin.refused",
    who="Hotline managers and administrators",
)  # fmt: skip


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "country", "website"]

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Two letters (ISO 3166-1), or empty.")
        return country


class LicenceForm(forms.Form):
    feed = forms.ChoiceField(choices=FeedName.choices)
    tier = forms.ChoiceField(choices=Tier.choices, initial=Tier.BASIC,
                             help_text="Only the Hash List has tiers.")  # fmt: skip
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["can_match", "can_send_images", "calls_per_minute"]


class MemberUserForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)

    def clean_username(self) -> str:
        name = self.cleaned_data["username"].strip()
        User.username_validator(name)
        if User.objects.filter(username=name).exists():
            raise forms.ValidationError("That user name is taken.")
        return name


@admins_only
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            org = form.save(commit=False)
            org.kind = OrganisationKind.MEMBER
            org.save()
            Membership.objects.create(organisation=org)
            record("members.created", actor=request.user, obj=org, data={"name": org.name})
        return redirect("member_admin:member", org.pk)
    orgs = Organisation.objects.filter(kind=OrganisationKind.MEMBER).prefetch_related("licences")
    status = 400 if request.method == "POST" else 200
    return render(request, "members/staff_list.html", {"orgs": orgs, "form": form},
                  status=status)  # fmt: skip


def _member(org_id: int) -> Organisation:
    return get_object_or_404(Organisation, pk=org_id, kind=OrganisationKind.MEMBER)


def _page(request: HttpRequest, org: Organisation, status: int = 200, **extra: Any) -> HttpResponse:
    membership, _ = Membership.objects.get_or_create(organisation=org)
    context = {
        **portal_context(org),
        "licence_form": LicenceForm(),
        "membership_form": MembershipForm(instance=membership),
        "user_form": MemberUserForm(),
        "users": User.objects.filter(organisation=org).order_by("username"),
        "once": form_token(request, "member-user"),
        **extra,
    }
    return render(request, "members/staff_member.html", context, status=status)


@admins_only
@never_cache
@require_http_methods(["GET"])
def member(request: HttpRequest, org_id: int) -> HttpResponse:
    return _page(request, _member(org_id))


@admins_only
@require_POST
def licence(request: HttpRequest, org_id: int) -> HttpResponse:
    org = _member(org_id)
    form = LicenceForm(request.POST)
    if not form.is_valid():
        return _page(request, org, 400, licence_form=form)
    data = form.cleaned_data
    tier = data["tier"] if data["feed"] == FeedName.HASH_LIST else Tier.BASIC
    with transaction.atomic():
        Licence.objects.update_or_create(
            organisation=org, feed=data["feed"],
            defaults={"tier": tier, "valid_until": data["valid_until"]},
        )  # fmt: skip
        record("members.licence_set", actor=request.user, obj=org, data={
            "feed": data["feed"], "tier": tier,
            "valid_until": data["valid_until"].isoformat() if data["valid_until"] else None,
        })  # fmt: skip
    return redirect("member_admin:member", org.pk)


@admins_only
@require_POST
def licence_end(request: HttpRequest, org_id: int, feed: str) -> HttpResponse:
    org = _member(org_id)
    with transaction.atomic():
        gone, _ = Licence.objects.filter(organisation=org, feed=feed).delete()
        if gone:
            record("members.licence_ended", actor=request.user, obj=org, data={"feed": feed})
    return redirect("member_admin:member", org.pk)


@admins_only
@require_POST
def membership(request: HttpRequest, org_id: int) -> HttpResponse:
    org = _member(org_id)
    current, _ = Membership.objects.get_or_create(organisation=org)
    form = MembershipForm(request.POST, instance=current)
    if not form.is_valid():
        return _page(request, org, 400, membership_form=form)
    with transaction.atomic():
        saved = form.save()
        record("members.membership_set", actor=request.user, obj=org, data={
            "can_match": saved.can_match, "can_send_images": saved.can_send_images,
            "calls_per_minute": saved.calls_per_minute,
        })  # fmt: skip
    return redirect("member_admin:member", org.pk)


@admins_only
@never_cache
@require_POST
def add_user(request: HttpRequest, org_id: int) -> HttpResponse:
    org = _member(org_id)
    if not spend_token(request, "member-user"):
        return redirect("member_admin:member", org.pk)  # a reload: nothing more issued
    form = MemberUserForm(request.POST)
    if not form.is_valid():
        return _page(request, org, 400, user_form=form)
    try:
        with transaction.atomic():
            user = User(username=form.cleaned_data["username"], email=form.cleaned_data["email"],
                        organisation=org)  # fmt: skip
            password, device = issue_credentials(user, Role.MEMBER)
            record("members.user_created", actor=request.user, obj=user,
                   data={"organisation": org.pk})  # fmt: skip
    except IntegrityError:
        form.add_error("username", "That user name is taken.")
        return _page(request, org, 400, user_form=form)
    return _page(request, org, issued_user=user, issued_password=password,
                 issued_totp=device.config_url)  # fmt: skip


@admins_only
@require_POST
def revoke_key(request: HttpRequest, org_id: int, key_id: str) -> HttpResponse:
    org = _member(org_id)
    revoke(get_object_or_404(MemberKey, key_id=key_id, organisation=org), request.user)
    return redirect("member_admin:member", org.pk)
