"""The forms staff fill in to add and remove entries of the hand-maintained feeds.

The fields only carry what was typed: `entries.parse` is the one judge of an entry, and
its `EntryError` lands on the field it names, so a form shown again keeps every value.
"""

from typing import Any

from django import forms
from django.forms.utils import ErrorList

from openhotline.feeds import entries
from openhotline.feeds.models import FeedName


def _text(label: str, *, required: bool = False, limit: int | None = None) -> forms.CharField:
    attrs: dict[str, Any] = {"autocomplete": "off", "spellcheck": "false"}
    if limit:
        attrs["maxlength"] = limit
    if required:
        attrs["required"] = True
    # Not required for Django and not stripped: entries.parse says what is missing.
    return forms.CharField(
        label=label, required=False, strip=False, widget=forms.TextInput(attrs=attrs)
    )


def _choice(label: str, choices: list[tuple[str, str]]) -> forms.CharField:
    # A text field shown as a list, so an unknown value gets entries.parse's message.
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _note() -> forms.CharField:
    return _text("Note (optional)", limit=entries.NOTE_LIMIT)


class Errors(ErrorList):
    """Error lists styled as the site's other form errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["error_class"] = "errors"
        super().__init__(*args, **kwargs)


class EntryForm(forms.Form):
    """One entry of `feed`; once valid, `entry_key` and `entry_data` are what to store."""

    feed: str = ""
    entry_key: str
    entry_data: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_class", Errors)
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        typed = {name: self.cleaned_data.get(name) or "" for name in self.fields}
        try:
            self.entry_key, self.entry_data = entries.parse(self.feed, typed)
        except entries.EntryError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned


class KeywordForm(EntryForm):
    feed = FeedName.KEYWORD_LIST
    term = _text("Term (a word or phrase)", required=True, limit=entries.TERM_LIMIT)
    language = _text("Language (ISO 639-1 code such as en, optional)", limit=2)
    note = _note()


class DomainForm(EntryForm):
    feed = FeedName.DOMAIN_ALERTS
    domain = _text("Domain (or a web address on it)", required=True, limit=entries.URL_LIMIT)
    reason = _choice(
        "Why it is alerted",
        [
            ("domain-hopping", "Domain hopping (moves between domains)"),
            ("disguised", "Disguised (shows other content to most visitors)"),
            ("commercial", "Commercial (sells access)"),
            ("other", "Other (say in the note)"),
        ],
    )
    note = _note()


class VirtualCurrencyForm(EntryForm):
    feed = FeedName.VIRTUAL_CURRENCY_ALERTS
    currency = _choice(
        "Currency",
        [
            ("BTC", "Bitcoin (BTC)"),
            ("BCH", "Bitcoin Cash (BCH)"),
            ("ETH", "Ethereum (ETH)"),
            ("LTC", "Litecoin (LTC)"),
            ("XMR", "Monero (XMR)"),
        ],
    )
    address = _text("Address", required=True, limit=200)
    note = _note()


class NpiUrlForm(EntryForm):
    feed = FeedName.NPI_URL_LIST
    url = _text("Web address (URL) of the image", required=True, limit=entries.URL_LIMIT)
    note = _note()


ENTRY_FORMS: dict[str, type[EntryForm]] = {
    form.feed: form for form in (KeywordForm, DomainForm, VirtualCurrencyForm, NpiUrlForm)
}


# The change log keeps 200 characters of "staff <user name>: <reason>".
REASON_LIMIT = 150


class RemoveForm(forms.Form):
    key = forms.CharField(max_length=2048, strip=False, widget=forms.HiddenInput)
    reason = _text("Reason for removing", required=True, limit=REASON_LIMIT)

    def clean_reason(self) -> str:
        try:
            return entries.clean_text(
                self.cleaned_data.get("reason"),
                field="reason",
                label="The reason",
                limit=REASON_LIMIT,
                required=True,
            )
        except entries.EntryError as exc:
            raise forms.ValidationError(exc.message) from None
