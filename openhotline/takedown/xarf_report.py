"""Building the X-ARF v4 ``content``/``csam`` report from an `XarfInput`, and its JSON.

`build_report` maps the notice's fields to the report's (the table is in `xarf`);
`to_json` writes it with sorted keys and refuses a report carrying media or internal
fields (``evidence``, ``screenshot_url``, ``_internal``): hashes and metadata only.
"""

import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from openhotline.takedown.xarf_input import Contact, XarfInput
from openhotline.urlnorm import host_of, normalise_url

XARF_VERSION: Final = "4.2.0"
XARF_CATEGORY: Final = "content"
XARF_TYPE: Final = "csam"
# Fields a hotline's report never carries: media (base64 evidence, a picture of the page)
# and internal metadata, which the spec says is never transmitted.
FORBIDDEN_FIELDS: Final = frozenset({"evidence", "screenshot_url", "_internal"})
# types/content-base.json: properties.domain.pattern
_CONTENT_DOMAIN = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$")


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


def refuse_media(report: Mapping[str, Any]) -> None:
    """ValueError when the report carries media or internal metadata (FORBIDDEN_FIELDS)."""
    present = sorted(name for name in FORBIDDEN_FIELDS if report.get(name) not in (None, []))
    if present:
        raise ValueError(
            f"a hotline's X-ARF report never carries {', '.join(present)}: "
            "hashes and metadata only, never media"
        )


def to_json(report: Mapping[str, Any]) -> str:
    """The report as JSON text: keys sorted (stable), non-ASCII as is (encode it as UTF-8)."""
    refuse_media(report)
    return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"
