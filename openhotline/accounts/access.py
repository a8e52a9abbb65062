"""The one door to staff pages: signed in, second factor verified, a staff role."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from openhotline.audit.services import record

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        # django-otp's middleware gives every user is_verified().
        if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined]
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "is_hotline_staff", False):
            raise PermissionDenied("Hotline staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def role_required(roles: frozenset[str], *, refusal: str, who: str) -> Callable[[View], View]:
    """Staff only, and then only `roles`; any other staff member gets 403 and the refusal
    is an audit event (`refusal`), so probing for what one may not do leaves a trace."""

    def decorate(view: View) -> View:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(request.user, "role", "") not in roles:
                record(refusal, actor=request.user, obj=None, data={"path": request.path[:200]})
                raise PermissionDenied(f"{who} only.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
