"""Checking what a reporter sent: every problem named by field and item, nothing dropped."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openhotline.urlnorm import UrlRejected, normalise_url


@dataclass
class CheckedReport:
    urls: list[tuple[str, str]] = field(default_factory=list)  # (as typed, normalised)
    description: str = ""
    contact: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def check_report(urls: list[str], description: str, contact: str) -> CheckedReport:
    result = CheckedReport(description=description.strip(), contact=contact.strip())
    typed = [u.strip() for u in urls if u.strip()]
    if len(typed) > settings.MAX_URLS_PER_REPORT:
        result.add_error(
            "urls",
            _("Please send at most %(max)d addresses in one report (you sent %(count)d).")
            % {"max": settings.MAX_URLS_PER_REPORT, "count": len(typed)},
        )
    seen: set[str] = set()
    for position, raw in enumerate(typed, start=1):
        try:
            normalised = normalise_url(raw, max_length=settings.MAX_URL_LENGTH)
        except UrlRejected as rejection:
            result.add_error(
                "urls",
                _("Address %(n)d (%(url)s): %(reason)s")
                % {"n": position, "url": _shorten(raw), "reason": reason_for(rejection)},
            )
            continue
        if normalised not in seen:
            seen.add(normalised)
            result.urls.append((raw, normalised))
    if not typed and not result.description:
        result.add_error(
            "urls", _("Please give at least one web address, or describe what you saw.")
        )
    if len(result.description) > settings.MAX_DESCRIPTION_LENGTH:
        result.add_error(
            "description",
            _("Please keep the description under %(max)d characters.")
            % {"max": settings.MAX_DESCRIPTION_LENGTH},
        )
    if "\x00" in result.description:
        result.add_error("description", _("The description contains control characters."))
    if result.contact:
        try:
            if len(result.contact) > 254:
                raise ValidationError("too long")
            validate_email(result.contact)
        except ValidationError:
            result.add_error(
                "contact", _("Please give an e-mail address such as name@example.org.")
            )
    return result


# The reasons of openhotline.urlnorm, by code, in the reporter's language.
_REASONS = {
    "empty": gettext_lazy("the address is empty."),
    "control": gettext_lazy("the address contains control characters."),
    "too_long": gettext_lazy("the address is longer than %(max)d characters."),
    "scheme": gettext_lazy("only web addresses (http or https) can be reported."),
    "malformed": gettext_lazy("the address is not well formed."),
    "credentials": gettext_lazy("the address contains a user name or password."),
    "port": gettext_lazy("the port number is not valid."),
    "host": gettext_lazy("the host name is not valid."),
    "onion": gettext_lazy("this is not a valid version 3 .onion address."),
}


def reason_for(rejection: UrlRejected) -> str:
    reason = _REASONS.get(rejection.code)
    if reason is None:
        return rejection.message
    return (
        str(reason) % {"max": settings.MAX_URL_LENGTH} if "%(max)" in str(reason) else str(reason)
    )


def _shorten(text: str, limit: int = 60) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"
