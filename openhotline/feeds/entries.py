"""One hand-entered entry of a member feed, checked and put in its canonical form.

`parse(feed, fields)` returns the feed key and the data stored with it, or raises
`EntryError(field, message)` naming the field and saying what is wrong in words for the
person who typed it. Keys are canonical so that two spellings of one thing are one item:
a keyword is NFKC case-folded with its whitespace collapsed, a domain is its lower-case
A-label form, a virtual currency address is `<currency>:<address>` in the address's own
canonical spelling, and a URL is what `openhotline.urlnorm` makes of it.

Nothing here escapes HTML: values are stored as typed (trimmed) and templates escape them.
Address checksums are `currency_addresses`'.
"""

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import idna

from openhotline.feeds.currency_addresses import ADDRESS_CHECKS, AddressError
from openhotline.feeds.models import FeedName
from openhotline.urlnorm import UrlRejected, host_of, normalise_url

# The feeds staff maintain by hand (until intelligence work fills them).
HAND_FEEDS = (
    FeedName.KEYWORD_LIST,
    FeedName.DOMAIN_ALERTS,
    FeedName.VIRTUAL_CURRENCY_ALERTS,
    FeedName.NPI_URL_LIST,
)

NOTE_LIMIT = 500
TERM_LIMIT = 200
URL_LIMIT = 2048
DOMAIN_REASONS = ("domain-hopping", "disguised", "commercial", "other")
CURRENCIES = ("BTC", "BCH", "ETH", "LTC", "XMR")

# Control characters, line and paragraph separators, and the invisible characters that
# reorder text on screen (bidirectional embeddings, overrides and isolates).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he "
    "hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko "
    "kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd "
    "ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se "
    "sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty "
    "ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())


class EntryError(ValueError):
    """What is wrong with one field of an entry, in words for the person who typed it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse(feed_name: str, fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """(the feed key, the data stored with it) for one entry of a hand-maintained feed."""
    parser = _PARSERS.get(feed_name)
    if parser is None:
        raise EntryError("feed", f"{feed_name!r} is not a feed that is maintained by hand.")
    return parser(fields)


def clean_text(
    value: str | None, *, field: str, label: str, limit: int, required: bool = False
) -> str:
    """A one-line text field: trimmed, no control characters, at most `limit` long."""
    text = (value or "").strip()
    if required and not text:
        raise EntryError(field, f"{label} is required.")
    if len(text) > limit:
        raise EntryError(field, f"{label} is longer than {limit} characters ({len(text)}).")
    if _CONTROL.search(text):
        raise EntryError(field, f"{label} contains control or text-direction characters.")
    return text


def _note(fields: Mapping[str, str]) -> str:
    return clean_text(fields.get("note"), field="note", label="The note", limit=NOTE_LIMIT)


# --- Keyword List -------------------------------------------------------------------------


def normalise_term(text: str) -> str:
    """Compatibility forms folded (fullwidth letters, ligatures), case folded, runs of
    whitespace made one space: what two people typing the same term would agree on."""
    folded = unicodedata.normalize("NFKC", text)
    folded = unicodedata.normalize("NFKC", folded.casefold())
    return " ".join(folded.split())


def _keyword(fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    term = clean_text(
        fields.get("term"), field="term", label="The term", limit=TERM_LIMIT, required=True
    )
    # Punctuation, spaces and invisible format characters (such as U+200B) alone say nothing.
    if all(unicodedata.category(c).startswith(("P", "Z", "C")) for c in term):
        raise EntryError(
            "term", "The term is only punctuation or invisible characters: give a word or phrase."
        )
    key = normalise_term(term)
    if len(key) > TERM_LIMIT:
        raise EntryError("term", f"The term is longer than {TERM_LIMIT} characters.")
    language = clean_text(fields.get("language"), field="language", label="The language",
                          limit=20).lower()  # fmt: skip
    if language and language not in _ISO_639_1:
        raise EntryError(
            "language", f"{language!r} is not an ISO 639-1 language code (two letters, e.g. en)."
        )
    kind = "phrase" if " " in key else "word"
    return key, {"term": term, "language": language, "kind": kind, "note": _note(fields)}


# --- Domain Alerts --------------------------------------------------------------------------

_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def _domain(fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    text = clean_text(fields.get("domain"), field="domain", label="The domain",
                      limit=URL_LIMIT, required=True)  # fmt: skip
    domain, unicode_form = normalise_domain(text)
    reason = (fields.get("reason") or "").strip()
    if reason not in DOMAIN_REASONS:
        raise EntryError("reason", f"Choose a reason: {', '.join(DOMAIN_REASONS)}.")
    data: dict[str, Any] = {"domain": domain, "reason": reason, "note": _note(fields)}
    if unicode_form != domain:
        data["unicode"] = unicode_form
    return domain, data


_ONION = "Onion services cannot be alerted: members cannot block them; they go to police."


def normalise_domain(text: str) -> tuple[str, str]:
    """(lower-case A-label form, Unicode form) of a host name typed, or taken from a
    pasted web address, as a browser would read it."""
    try:
        host = host_of(normalise_url(text))
    except UrlRejected as exc:
        raise EntryError("domain", _why_not_a_domain(text, exc)) from None
    if host.startswith("[") or _is_ipv4(host):
        raise EntryError("domain", "That is an IP address, not a domain name.")
    if host.endswith(".onion"):
        raise EntryError("domain", _ONION)
    if "." not in host:
        raise EntryError("domain", "Give a full domain name with a dot (e.g. example.com).")
    for label in host.split("."):
        _check_label(label)
    try:
        # Labels typed as A-labels ("xn--…") must be valid punycode too.
        return host, idna.decode(host)
    except (idna.IDNAError, UnicodeError):
        raise EntryError("domain", "This is not a valid international domain name.") from None


def _check_label(label: str) -> None:
    if len(label) > 63:
        raise EntryError("domain", f"The label {label[:20]}… is longer than 63 characters.")
    if not _LDH_LABEL.match(label):
        raise EntryError(
            "domain",
            f"The label {label[:63]!r} has characters a domain name cannot have "
            "(letters, digits and inner hyphens only).",
        )


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _why_not_a_domain(text: str, exc: UrlRejected) -> str:
    if exc.code == "scheme":
        return "Give a domain name, or a web address (http or https) to take it from."
    if exc.code == "onion":
        return _ONION
    if exc.code != "host":
        return exc.message.replace("The address", "The domain")
    # Say which rule the name breaks, where the rough host shows it.
    rough = text.split("://", 1)[-1]
    rough = re.split(r"[/?#]", rough, maxsplit=1)[0].rpartition("@")[2].rstrip(".")
    if len(rough) > 253:
        return "The domain name is longer than 253 characters."
    if "." not in rough:
        return "Give a full domain name with a dot (e.g. example.com)."
    for label in rough.lower().split("."):
        if label.isascii() or len(label) > 63:  # Unicode labels are IDNA's to judge
            try:
                _check_label(label)
            except EntryError as problem:
                return problem.message
    return "This is not a valid domain name."


# --- Non-Photographic Imagery URL List ------------------------------------------------------


def _npi_url(fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    text = clean_text(fields.get("url"), field="url", label="The address",
                      limit=URL_LIMIT, required=True)  # fmt: skip
    try:
        url = normalise_url(text, max_length=URL_LIMIT)
    except UrlRejected as exc:
        if exc.code == "scheme":
            raise EntryError("url", "Only web addresses (http or https) can be listed.") from None
        raise EntryError("url", exc.message) from None
    if host_of(url).endswith(".onion"):
        raise EntryError(
            "url", "Onion addresses cannot be listed: members cannot block them; they go to police."
        )
    return url, {"url": url, "note": _note(fields)}


# --- Virtual Currency Alerts ----------------------------------------------------------------


def _virtual_currency(fields: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    currency = (fields.get("currency") or "").strip().upper()
    check = ADDRESS_CHECKS.get(currency)
    if check is None:
        shown = f"{currency[:10]!r} is not" if currency else "Choose"
        raise EntryError("currency", f"{shown} a known currency: {', '.join(CURRENCIES)}.")
    text = clean_text(fields.get("address"), field="address", label="The address",
                      limit=200, required=True)  # fmt: skip
    if any(c.isspace() for c in text):
        raise EntryError("address", "The address contains spaces.")
    try:
        address, key_form = check(text)
    except AddressError as exc:
        raise EntryError("address", str(exc)) from None
    data = {"currency": currency, "address": address, "note": _note(fields)}
    return f"{currency}:{key_form}", data


_PARSERS: dict[str, Callable[[Mapping[str, str]], tuple[str, dict[str, Any]]]] = {
    FeedName.KEYWORD_LIST: _keyword,
    FeedName.DOMAIN_ALERTS: _domain,
    FeedName.VIRTUAL_CURRENCY_ALERTS: _virtual_currency,
    FeedName.NPI_URL_LIST: _npi_url,
}
