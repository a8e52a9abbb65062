"""Staff sign-in: password and TOTP in one step; failures of either count towards lockout."""

from django.conf import settings
from django.contrib.auth import authenticate, login, logout, user_logged_in  # noqa: F401
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token

from openhotline.accounts.forms import SignInForm
from openhotline.accounts.models import Role, User
from openhotline.accounts.typed_names import name_digest
from openhotline.audit.services import record


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            # AxesMiddleware turns this into the lockout page.
            return HttpResponse(status=429)
        device = match_token(user, form.cleaned_data["otp_token"]) if user else None
        if isinstance(user, User) and device is not None:
            login(request, user)
            otp_login(request, device)
            record("auth.signed_in", actor=user, obj=user)
            if not url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                # Member organisations' users have their own portal, not the staff inbox.
                home = "members:home" if user.role == Role.MEMBER else settings.LOGIN_REDIRECT_URL
                next_url = resolve_url(home)
            return HttpResponseRedirect(next_url)
        if user is not None:
            # Right password, wrong code: count it as a failure, as axes would a password.
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request
            )
            if getattr(request, "axes_locked_out", False):
                return HttpResponse(status=429)
        _record_failure(username, user)
        form.add_error(None, _("The user name, password or code is not right."))
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url})


def _record_failure(typed_name: str, user: object) -> None:
    """The audit chain is never rewritten, so it must not keep what was typed: a password
    typed into the user-name field would stay for ever. A real user is named by the row;
    anything else by a digest keyed with SECRET_KEY (a reader of the database cannot test
    guesses against it, and repeated tries of one name still show as one name)."""
    named = user if isinstance(user, User) else User.objects.filter(username=typed_name).first()
    if named is not None:
        record("auth.sign_in_failed", actor=None, obj=named)
        return
    digest = name_digest(typed_name)
    record("auth.sign_in_failed", actor=None, obj=None, data={"unknown_name_digest": digest})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record("auth.signed_out", actor=request.user, obj=request.user)
    logout(request)
    return HttpResponseRedirect(resolve_url("accounts:login"))
