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

The parts: `xarf_input` (`XarfInput` and its checked fields, `classification_for`),
`xarf_report` (`build_report`, `to_json`), `xarf_schema` (`validate`) and `xarf_mail`
(`attach_to`, `XarfEmailMessage`). Notices and tests use them through this module.
"""

from openhotline.takedown.xarf_input import (
    Contact,
    CsamClassification,
    DetectionMethod,
    HashType,
    MediaHash,
    MediaType,
    XarfInput,
    classification_for,
)
from openhotline.takedown.xarf_mail import ATTACHMENT_NAME, XarfEmailMessage, attach_to
from openhotline.takedown.xarf_report import (
    XARF_CATEGORY,
    XARF_TYPE,
    XARF_VERSION,
    build_report,
    to_json,
)
from openhotline.takedown.xarf_schema import validate

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
