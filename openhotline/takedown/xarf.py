"""The X-ARF v4 part of a notice-and-takedown e-mail: one report of type ``content``/``csam``.

X-ARF v4 (schemas: xarf/xarf-spec, vendored in ``tests/data/xarf/``) is a JSON document with
snake_case fields. The capitalised names of X-ARF v3 (``Version``, ``ReporterInfo``,
``Report.ReportClass``/``ReportType``/``Date``/``SourceType``/``Source``...) are gone; the
v4 schema only mentions them for converting old reports. The master schema offers category
``content`` with type ``csam`` (child sexual abuse material), checked by
``types/content-csam.json`` on top of ``types/content-base.json`` and ``xarf-core.json``.

Where our data goes (``build_report``)::

    xarf_version       "4.2.0" (the schema fixes only the pattern 4.x.y; its samples use 4.2.0)
    report_id          XarfInput.report_id: a UUID (the schema requires format uuid, the spec
                       says v4); uuid4() unless the caller passes the one stored with the
                       notice, so that a resent notice keeps its id
    timestamp          first_seen ("when the abuse incident occurred")
    reporter, sender   Contact(org, contact, domain); the sender defaults to the reporter
    source_identifier  source_ip if known, else the host of the URL
    source_port        source_port, if known
    category, type     "content", "csam"
    url                the reported URL, through openhotline.urlnorm.normalise_url, so it is
                       always an RFC 3986 URI (IDNA host, percent-encoded path)
    domain             the URL's host, only when it matches the schema's pattern (which
                       refuses IP addresses, underscores and IDNA "xn--" labels)
    classification     XarfInput.classification: "baseline", "A1", "A2", "B1" or "B2"
                       (see classification_for)
    detection_method   XarfInput.detection_method, "manual_review" unless told
    media_type         media_type, if given
    hash_values        the media hashes, {type: value}; md5, sha1, sha256 and photodna are
                       the schema's names; "pdq" is one more key, which the schema allows
                       (hash_values does not forbid additional properties)
    verified_at        verified_at, if given
    description        notes (at most 1000 characters, the schema's limit), if any
    custom             what the schema has no field for: notice_id (our reference: it is
                       not a UUID, so it cannot be report_id), reported_at (the schema's only
                       time of the incident is timestamp), grade (our neutral code, see
                       openhotline.grading), uk_category, interpol_baseline, vics_category.
                       The report level allows additional properties, and the spec's text
                       names ``custom`` for organisation-specific data.

Never any media: there is no parameter for evidence, and ``evidence`` (base64 payloads),
``screenshot_url`` and ``_internal`` (which the spec says is never transmitted) are never set;
``to_json`` and ``attach_to`` refuse a report that carries them (the spec itself says not to
attach visual content to csam reports, and to send hashes and reference ids instead).

All times are aware datetimes, written in UTC as RFC 3339 / ISO 8601 with "Z", to the second.

E-mail: X-ARF's e-mail transport (xarf.org, "Email Transport (SMTP)") extends ARF (RFC 5965)
in an RFC 6522 ``multipart/report; report-type=feedback-report`` message of three parts: the
human-readable text, a ``message/feedback-report`` part with ``Feedback-Type: xarf``,
``User-Agent`` and ``Version: 1``, and the report as ``application/json; name=xarf.json``,
base64, ``Content-Disposition: attachment; filename=xarf.json``. ``attach_to`` adds the last
two parts to any Django EmailMessage; Django 6.1 always builds ``multipart/mixed`` (it removed
``mixed_subtype``), so ``XarfEmailMessage`` retypes its message as the ``multipart/report``
that X-ARF receivers look for.

``validate`` needs jsonschema (a dev dependency); at run time this module works without it.
"""

import email.message
import email.policy
import functools
import importlib
import ipaddress
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import MIMEPart
from email.policy import Policy
from pathlib import Path
from typing import Any, Final, Literal, get_args

from django.core.mail import EmailMessage

from openhotline import grading
from openhotline.urlnorm import host_of, normalise_url

__all__ = [
    "ATTACHMENT_NAME",
    "XARF_CATEGORY",
    "XARF_TYPE",
    "XARF_VERSION",
    "Contact",
    "CsamClassification",
    "DetectionMethod",
    "HashType",
    "MediaHash",
    "MediaType",
    "XarfEmailMessage",
    "XarfInput",
    "attach_to",
    "build_report",
    "classification_for",
    "to_json",
    "validate",
]

XARF_VERSION: Final = "4.2.0"
XARF_CATEGORY: Final = "content"
XARF_TYPE: Final = "csam"
ATTACHMENT_NAME: Final = "xarf.json"
FEEDBACK_TYPE: Final = "xarf"
DEFAULT_USER_AGENT: Final = "OpenHotline"
DESCRIPTION_MAX_LENGTH: Final = 1000  # xarf-core.json: description.maxLength
ORG_MAX_LENGTH: Final = 200  # xarf-core.json: contact_info.org.maxLength
# Fields a hotline's report never carries: media (base64 evidence, a picture of the page)
# and internal metadata, which the spec says is never transmitted.
FORBIDDEN_FIELDS: Final = frozenset({"evidence", "screenshot_url", "_internal"})
# The vendored schemas: test data, present in a checkout, absent from an installed package.
DEFAULT_SCHEMA_DIR: Final = Path(__file__).resolve().parents[2] / "tests/data/xarf/schemas/v4"

CsamClassification = Literal["baseline", "A1", "A2", "B1", "B2"]
DetectionMethod = Literal[
    "hash_match", "ai_detection", "manual_review", "user_report", "automated_scan"
]
MediaType = Literal["image", "video", "audio", "text", "mixed"]
HashType = Literal["md5", "sha1", "sha256", "photodna", "pdq"]

_HEX_LENGTH = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = re.compile(r"[0-9a-fA-F]+")
_PHOTODNA = re.compile(r"[A-Za-z0-9+/=,]{1,2048}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?P<domain>.+)")
# types/content-base.json: properties.domain.pattern
_CONTENT_DOMAIN = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Activities that are "a sex act" (1) or "lascivious exhibition" (2) in the A1-B2 codes.
_SEX_ACT = frozenset({"penetrative", "bestiality", "sadism", "non_penetrative"})
_EXHIBITION = frozenset({"sexual_posing"})


def _text(name: str, value: object, *, max_length: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(value):
        raise ValueError(f"{name} contains control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode (lone surrogates)") from None
    return value


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")
    return value


def _one_of(name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Contact:
    """X-ARF ``contact_info``: exactly these three fields (the schema allows no others)."""

    org: str
    contact: str  # an e-mail address
    domain: str  # the organisation's domain, ASCII (IDNA) host name

    def __post_init__(self) -> None:
        if not _text("org", self.org, max_length=ORG_MAX_LENGTH).strip():
            raise ValueError("org is empty")
        _text("contact", self.contact, max_length=254)
        match = _EMAIL.fullmatch(self.contact)
        if match is None or not _HOSTNAME.fullmatch(match["domain"]):
            raise ValueError(f"contact {self.contact!r} is not an e-mail address")
        _text("domain", self.domain, max_length=253)
        if not _HOSTNAME.fullmatch(self.domain):
            raise ValueError(f"domain {self.domain!r} is not a host name (use IDNA for IDNs)")


@dataclass(frozen=True, slots=True)
class MediaHash:
    """A hash of the media at the URL: md5/sha1/sha256/pdq in hex, photodna as given."""

    type: HashType
    value: str

    def __post_init__(self) -> None:
        _one_of("hash type", self.type, get_args(HashType))
        _text("hash value", self.value, max_length=2048)
        length = _HEX_LENGTH.get(self.type)
        if length is not None:
            if len(self.value) != length or not _HEX.fullmatch(self.value):
                raise ValueError(f"a {self.type} hash is {length} hexadecimal digits")
        elif not _PHOTODNA.fullmatch(self.value):
            raise ValueError("a photodna hash is base64, hex or comma-separated numbers")

    def normalised(self) -> str:
        return self.value.lower() if self.type in _HEX_LENGTH else self.value


@dataclass(frozen=True, slots=True)
class XarfInput:
    """Everything an X-ARF notice says. Deliberately no field for media or evidence bytes.

    One report describes one item at one URL (X-ARF: "one incident = one report"), so each
    hash type appears at most once; send one report per media item.
    """

    notice_id: str  # our reference for the notice
    reporter: Contact
    url: str
    first_seen: datetime
    reported_at: datetime
    classification: CsamClassification
    grade: str  # openhotline.grading activity code
    detection_method: DetectionMethod = "manual_review"
    uk_category: str | None = None  # "A", "B", "C" or "prohibited"
    interpol_baseline: bool | None = None
    vics_category: int | None = None  # 1-4
    media_type: MediaType | None = None
    hashes: Sequence[MediaHash] = ()
    sender: Contact | None = None  # who transmits the report; the reporter if None
    source_ip: str | None = None
    source_port: int | None = None
    verified_at: datetime | None = None
    notes: str = ""
    report_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if not _text("notice_id", self.notice_id, max_length=200).strip():
            raise ValueError("notice_id is empty")
        if not isinstance(self.reporter, Contact):
            raise TypeError("reporter must be a Contact")
        if self.sender is not None and not isinstance(self.sender, Contact):
            raise TypeError("sender must be a Contact or None")
        normalise_url(_text("url", self.url, max_length=2048))  # UrlRejected is a ValueError
        _aware("first_seen", self.first_seen)
        _aware("reported_at", self.reported_at)
        if self.verified_at is not None:
            _aware("verified_at", self.verified_at)
        _one_of("classification", self.classification, get_args(CsamClassification))
        _one_of("detection_method", self.detection_method, get_args(DetectionMethod))
        if self.media_type is not None:
            _one_of("media_type", self.media_type, get_args(MediaType))
        if self.grade in grading.NOT_CSAM:
            raise ValueError(f"grade {self.grade!r} is not child sexual abuse material")
        _one_of("grade", self.grade, tuple(grading.ACTIVITIES))
        if self.uk_category is not None:
            _one_of(
                "uk_category", self.uk_category, (*grading.UK_CATEGORIES, grading.UK_PROHIBITED)
            )
        if self.interpol_baseline is not None and not isinstance(self.interpol_baseline, bool):
            raise TypeError("interpol_baseline must be True, False or None")
        if self.vics_category is not None:
            if isinstance(self.vics_category, bool):
                raise TypeError("vics_category must be an int")
            _one_of("vics_category", self.vics_category, tuple(sorted(grading.VICS_CATEGORIES)[1:]))
        hashes = tuple(self.hashes)
        for item in hashes:
            if not isinstance(item, MediaHash):
                raise TypeError("hashes must be MediaHash values")
        types = [item.type for item in hashes]
        duplicates = sorted({t for t in types if types.count(t) > 1})
        if duplicates:
            raise ValueError(
                f"more than one {', '.join(duplicates)} hash: send one report per media item"
            )
        object.__setattr__(self, "hashes", hashes)
        if self.source_ip is not None:
            ipaddress.ip_address(self.source_ip)  # ValueError if it is not an address
        if self.source_port is not None and (
            isinstance(self.source_port, bool)
            or not isinstance(self.source_port, int)
            or not 1 <= self.source_port <= 65535
        ):
            raise ValueError("source_port must be an int from 1 to 65535")
        _text("notes", self.notes, max_length=DESCRIPTION_MAX_LENGTH, multiline=True)
        if not isinstance(self.report_id, uuid.UUID):
            raise TypeError("report_id must be a uuid.UUID")


def classification_for(
    grade: str | None, age_band: str | None, *, non_photographic: bool = False
) -> CsamClassification | None:
    """A suggestion for ``XarfInput.classification`` from our neutral grade, or None.

    The schema lists "baseline", "A1", "A2", "B1", "B2" without defining them. We read them
    as INTERPOL's baseline and the industry classification used in NCMEC CyberTipline
    reports: A = prepubescent, B = pubescent; 1 = a sex act, 2 = lascivious exhibition.
    Prepubescent is ``grading.PREPUBESCENT_BANDS``. None where the codes do not say: no
    grade or age band, material that is not child sexual abuse material, non-photographic
    material (the codes are about real children), or "indecent_other", which is neither.
    The analyst decides those, and may always choose "baseline" instead.
    """
    if grade is None or age_band is None or non_photographic:
        return None
    if grade not in grading.GRADES:
        raise ValueError(f"unknown grade {grade!r}")
    if age_band not in grading.AGE_BANDS:
        raise ValueError(f"unknown age band {age_band!r}")
    letter = "A" if age_band in grading.PREPUBESCENT_BANDS else "B"
    if grade in _SEX_ACT:
        return "A1" if letter == "A" else "B1"
    if grade in _EXHIBITION:
        return "A2" if letter == "A" else "B2"
    return None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _contact(contact: Contact) -> dict[str, str]:
    return {"org": contact.org, "contact": contact.contact, "domain": contact.domain.lower()}


def build_report(notice: XarfInput) -> dict[str, Any]:
    """The X-ARF v4 ``content``/``csam`` report for a notice, as a JSON-ready dict."""
    url = normalise_url(notice.url)
    host = host_of(url).removeprefix("[").removesuffix("]")
    source = str(ipaddress.ip_address(notice.source_ip)) if notice.source_ip else host
    custom: dict[str, Any] = {
        "notice_id": notice.notice_id,
        "reported_at": _iso(notice.reported_at),
        "grade": notice.grade,
    }
    if notice.uk_category is not None:
        custom["uk_category"] = notice.uk_category
    if notice.interpol_baseline is not None:
        custom["interpol_baseline"] = notice.interpol_baseline
    if notice.vics_category is not None:
        custom["vics_category"] = notice.vics_category
    report: dict[str, Any] = {
        "xarf_version": XARF_VERSION,
        "report_id": str(notice.report_id),
        "timestamp": _iso(notice.first_seen),
        "reporter": _contact(notice.reporter),
        "sender": _contact(notice.sender or notice.reporter),
        "source_identifier": source,
        "category": XARF_CATEGORY,
        "type": XARF_TYPE,
        "url": url,
        "classification": notice.classification,
        "detection_method": notice.detection_method,
        "custom": custom,
    }
    if notice.source_port is not None:
        report["source_port"] = notice.source_port
    if _CONTENT_DOMAIN.match(host):
        report["domain"] = host
    if notice.media_type is not None:
        report["media_type"] = notice.media_type
    if notice.hashes:
        report["hash_values"] = {item.type: item.normalised() for item in notice.hashes}
    if notice.verified_at is not None:
        report["verified_at"] = _iso(notice.verified_at)
    if notice.notes:
        report["description"] = notice.notes
    return report


def _refuse_media(report: Mapping[str, Any]) -> None:
    present = sorted(name for name in FORBIDDEN_FIELDS if report.get(name) not in (None, []))
    if present:
        raise ValueError(
            f"a hotline's X-ARF report never carries {', '.join(present)}: "
            "hashes and metadata only, never media"
        )


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text: keys sorted (stable), non-ASCII as is (encode it as UTF-8)."""
    _refuse_media(report)
    return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"


# --- Validation (jsonschema is a dev dependency: imported only here) ---------------------

_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time, which requires an offset (jsonschema checks it only with extras)."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    try:
        return datetime.fromisoformat(value.upper()).tzinfo is not None
    except ValueError:
        return False


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.fullmatch(value))


def _is_hostname(value: object) -> bool:
    return not isinstance(value, str) or bool(_HOSTNAME.fullmatch(value))


@functools.lru_cache(maxsize=4)
def _validator(schema_dir: Path) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    master = None
    for path in sorted(schema_dir.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012))
        )
        if path.name == "xarf-v4-master.json":
            master = contents
    if master is None:
        raise FileNotFoundError(f"no xarf-v4-master.json under {schema_dir}")
    checker = FormatChecker()
    # Without rfc3339-validator, rfc3987 and fqdn installed, jsonschema skips these formats.
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    checker.checks("hostname")(_is_hostname)
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft202012Validator(master, registry=registry, format_checker=checker)


def _where(path: Sequence[object]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def validate(report: Mapping[str, Any], *, schema_dir: Path | None = None) -> list[str]:
    """Schema errors of a report ("$.reporter: 'domain' is a required property"), sorted.

    Validates against the vendored X-ARF v4 master schema (formats checked too) when
    jsonschema is importable; returns [] without it, or when ``schema_dir`` is not given and
    the vendored schemas are not there (an installed package has no tests/ directory).
    A ``$ref`` that the schema directory cannot resolve is reported as an error. The schema
    allows ``evidence``; ``to_json`` is what refuses it.
    """
    directory = DEFAULT_SCHEMA_DIR if schema_dir is None else schema_dir
    if schema_dir is None and not directory.is_dir():
        return []
    try:
        importlib.import_module("jsonschema")  # each time: the validator below is cached
        from referencing.exceptions import Unresolvable
    except ImportError:
        return []
    validator = _validator(directory.resolve())
    try:
        errors = {
            f"{_where(error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(report)
        }
    except Unresolvable as exc:
        kind = f"{report.get('category')}/{report.get('type')}"
        return [f"$: no vendored schema for {kind} ({exc})"]
    return sorted(errors)


# --- E-mail ----------------------------------------------------------------------------


def attach_to(
    message: EmailMessage, report: Mapping[str, Any], *, user_agent: str = DEFAULT_USER_AGENT
) -> None:
    """Add the X-ARF parts to a notice e-mail whose body is the human-readable text.

    Two parts, as X-ARF's e-mail transport has them after the text: ``message/feedback-report``
    (``Feedback-Type: xarf``, ``User-Agent``, ``Version: 1``, inline), then the report as
    ``application/json; name=xarf.json``, base64, ``attachment; filename=xarf.json``. The
    message must have no other attachments: an X-ARF notice carries the report and nothing
    else (and certainly no media). Use ``XarfEmailMessage`` to send it as the RFC 6522
    ``multipart/report; report-type=feedback-report`` that X-ARF asks for.
    """
    data = to_json(report).encode("utf-8")
    if message.attachments:
        raise ValueError("the notice already has attachments; X-ARF notices carry only the report")
    feedback = email.message.EmailMessage()
    feedback["Feedback-Type"] = FEEDBACK_TYPE
    feedback["User-Agent"] = _text("user_agent", user_agent, max_length=200)
    feedback["Version"] = "1"
    feedback_part = MIMEPart()
    feedback_part.set_content(feedback, subtype="feedback-report", disposition="inline")
    json_part = MIMEPart()
    json_part.set_content(
        data,
        maintype="application",
        subtype="json",
        cte="base64",
        disposition="attachment",
        filename=ATTACHMENT_NAME,
        params={"name": ATTACHMENT_NAME},
    )
    message.attach(feedback_part)
    message.attach(json_part)


class XarfEmailMessage(EmailMessage):
    """A notice e-mail sent as ``multipart/report; report-type=feedback-report`` (RFC 6522).

    Write the human-readable notice as the body, then call ``attach_to``. ``message()``
    refuses anything but text, feedback report, X-ARF JSON, in that order.
    """

    def message(
        self, *, policy: Policy | None = email.policy.default
    ) -> email.message.EmailMessage:
        msg = super().message(policy=policy if policy is not None else email.policy.default)
        types = [part.get_content_type() for part in msg.iter_parts()]
        if (
            len(types) != 3
            or not (types[0].startswith("text/") or types[0] == "multipart/alternative")
            or types[1:] != ["message/feedback-report", "application/json"]
        ):
            raise ValueError(
                "an X-ARF notice is a human-readable body, then attach_to() and nothing else; "
                f"this one has {types}"
            )
        msg.set_type("multipart/report")
        msg.set_param("report-type", "feedback-report")
        return msg
