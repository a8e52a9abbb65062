"""What an X-ARF notice says, checked as it is made: `XarfInput` and its parts.

Every field is checked against what the X-ARF v4 schema (and e-mail) accepts before a
report is built: text lengths and control characters, aware datetimes, e-mail addresses
and host names, hash formats, one hash per type, a grade that is child sexual abuse
material. There is deliberately no field for media or evidence bytes. `classification_for`
suggests the schema's csam classification from our neutral grade; the analyst decides.
`xarf_report` turns an `XarfInput` into the report.
"""

import ipaddress
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, get_args

from openhotline import grading
from openhotline.urlnorm import normalise_url

DESCRIPTION_MAX_LENGTH: Final = 1000  # xarf-core.json: description.maxLength
ORG_MAX_LENGTH: Final = 200  # xarf-core.json: contact_info.org.maxLength

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
HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?P<domain>.+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Activities that are "a sex act" (1) or "lascivious exhibition" (2) in the A1-B2 codes.
_SEX_ACT = frozenset({"penetrative", "bestiality", "sadism", "non_penetrative"})
_EXHIBITION = frozenset({"sexual_posing"})


def checked_text(name: str, value: object, *, max_length: int, multiline: bool = False) -> str:
    """`value` if it is text X-ARF and e-mail can carry: at most `max_length`, no controls."""
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
        if not checked_text("org", self.org, max_length=ORG_MAX_LENGTH).strip():
            raise ValueError("org is empty")
        checked_text("contact", self.contact, max_length=254)
        match = _EMAIL.fullmatch(self.contact)
        if match is None or not HOSTNAME.fullmatch(match["domain"]):
            raise ValueError(f"contact {self.contact!r} is not an e-mail address")
        checked_text("domain", self.domain, max_length=253)
        if not HOSTNAME.fullmatch(self.domain):
            raise ValueError(f"domain {self.domain!r} is not a host name (use IDNA for IDNs)")


@dataclass(frozen=True, slots=True)
class MediaHash:
    """A hash of the media at the URL: md5/sha1/sha256/pdq in hex, photodna as given."""

    type: HashType
    value: str

    def __post_init__(self) -> None:
        _one_of("hash type", self.type, get_args(HashType))
        checked_text("hash value", self.value, max_length=2048)
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
        if not checked_text("notice_id", self.notice_id, max_length=200).strip():
            raise ValueError("notice_id is empty")
        if not isinstance(self.reporter, Contact):
            raise TypeError("reporter must be a Contact")
        if self.sender is not None and not isinstance(self.sender, Contact):
            raise TypeError("sender must be a Contact or None")
        normalise_url(checked_text("url", self.url, max_length=2048))  # UrlRejected is a ValueError
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
        checked_text("notes", self.notes, max_length=DESCRIPTION_MAX_LENGTH, multiline=True)
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
