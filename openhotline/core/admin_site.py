"""The Django admin, for administrators only, behind the one staff sign-in (password + TOTP)."""

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class StaffAdminSite(OTPAdminSite):
    site_header = "OpenHotline administration"

    def has_permission(self, request: HttpRequest) -> bool:
        # The role decides, not a stale is_staff flag: administrators only.
        user = request.user
        return super().has_permission(request) and getattr(user, "role", "") == "administrator"

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One door: the staff sign-in page, with its lockout and audit.
        return redirect_to_login(
            request.GET.get("next") or reverse("admin:index"), login_url="accounts:login"
        )
