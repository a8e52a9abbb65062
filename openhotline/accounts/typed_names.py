"""What a sign-in keeps of the name someone typed.

People type passwords into the user-name field. The audit chain is never rewritten and
django-axes keeps its attempts for the lockout, so neither may keep such a string: a name
that belongs to a real user is kept as it is (it is that user's name, and unlocking by
name keeps working), anything else as a digest keyed with SECRET_KEY (a reader of the
database cannot test guesses against it; repeated tries of one string still count as one).
"""

from typing import Any

from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from openhotline.accounts.models import User

_SALT = "openhotline.accounts.sign-in-failed-name"


def name_digest(typed_name: str) -> str:
    return salted_hmac(_SALT, typed_name, algorithm="sha256").hexdigest()[:32]


def kept_name(typed_name: str) -> str:
    """The typed name if a user has it, else `unknown:<digest>`."""
    if typed_name and User.objects.filter(username=typed_name).exists():
        return typed_name
    return f"unknown:{name_digest(typed_name or '')}"


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """AXES_USERNAME_CALLABLE: the lockout counts by the kept name, never the typed one."""
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = getattr(request, "POST", {}).get("username", "")
    return kept_name(str(typed or ""))
