"""X-ARF v4 reports for notices: valid against the vendored schema, no media, safe in mail.

All values are benign labels: example.* hosts, documentation IP ranges, hashes of nothing.
"""

import dataclasses
import email
import email.policy
import json
import subprocess
import sys
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMessage
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from openhotline.takedown import xarf
from openhotline.takedown.xarf import (
    Contact,
    MediaHash,
    XarfEmailMessage,
    XarfInput,
    attach_to,
    build_report,
    classification_for,
    to_json,
    validate,
)
from openhotline.urlnorm import normalise_url

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "tests" / "data" / "xarf"
SCHEMAS = VENDORED / "schemas" / "v4"
SAMPLE = VENDORED / "samples" / "v4" / "content-csam.json"

SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"
HOTLINE = Contact("Example Hotline", "notices@hotline.example.org", "hotline.example.org")
FIRST_SEEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
REPORTED_AT = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=1)))


def notice(**changes: Any) -> XarfInput:
    fields: dict[str, Any] = {
        "notice_id": "NTD-2025-0001",
        "reporter": HOTLINE,
        "url": "https://files.example.com/gallery/item-17",
        "first_seen": FIRST_SEEN,
        "reported_at": REPORTED_AT,
        "classification": "A1",
        "grade": "penetrative",
        "uk_category": "A",
        "interpol_baseline": True,
        "vics_category": 1,
        "media_type": "image",
        "hashes": [MediaHash("sha256", SHA256_EMPTY.upper()), MediaHash("pdq", "f" * 64)],
        "source_ip": "192.0.2.44",
        "source_port": 443,
    }
    fields.update(changes)
    return XarfInput(**fields)


# --- The validator, built here from the vendored files (independently of xarf.validate) ---


def _date_time(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _uri(value: object) -> bool:
    allowed = set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
    )
    return isinstance(value, str) and ":" in value and set(value) <= allowed


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    master = json.loads((SCHEMAS / "xarf-v4-master.json").read_text(encoding="utf-8"))
    checker = FormatChecker()
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    return Draft202012Validator(master, registry=registry, format_checker=checker)


def errors_of(validator: Draft202012Validator, report: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(report)]


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# --- The schema ------------------------------------------------------------------------


def test_vendored_files_are_the_shared_reference_unchanged() -> None:
    shared = Path("/work/shared/vectors/xarf")
    if not shared.is_dir():
        pytest.skip("the shared reference data is not on this machine")
    for path in VENDORED.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.read_bytes() == (shared / path.relative_to(VENDORED)).read_bytes()


def test_the_sample_validates_which_proves_the_validator(validator: Draft202012Validator) -> None:
    assert errors_of(validator, sample()) == []
    assert validate(sample()) == []
    # ...and the same validator does reject things: the sample without its csam fields.
    broken = {k: v for k, v in sample().items() if k not in {"classification", "url"}}
    assert len(errors_of(validator, broken)) == 2


def test_the_schema_offers_content_csam() -> None:
    master = json.loads((SCHEMAS / "xarf-v4-master.json").read_text(encoding="utf-8"))
    pairs = master["allOf"][1]["anyOf"]
    content = next(p for p in pairs if p["properties"]["category"]["const"] == "content")
    assert "csam" in content["properties"]["type"]["enum"]
    report = build_report(notice())
    assert (report["category"], report["type"]) == ("content", "csam")
    assert (xarf.XARF_CATEGORY, xarf.XARF_TYPE) == ("content", "csam")


def test_a_built_report_validates(validator: Draft202012Validator) -> None:
    report = build_report(notice(verified_at=REPORTED_AT, notes="Seen twice."))
    assert errors_of(validator, report) == []
    assert validate(report) == []


def test_a_minimal_report_validates(validator: Draft202012Validator) -> None:
    report = build_report(
        notice(
            uk_category=None,
            interpol_baseline=None,
            vics_category=None,
            media_type=None,
            hashes=(),
            source_ip=None,
            source_port=None,
        )
    )
    assert errors_of(validator, report) == []
    assert set(report) == {
        "xarf_version",
        "report_id",
        "timestamp",
        "reporter",
        "sender",
        "source_identifier",
        "category",
        "type",
        "url",
        "domain",
        "classification",
        "detection_method",
        "custom",
    }


def test_fields_land_where_the_docstring_says() -> None:
    report_id = uuid.uuid4()
    sender = Contact("Example Relay", "relay@relay.example.net", "relay.example.net")
    report = build_report(notice(report_id=report_id, sender=sender, notes="n"))
    assert report["xarf_version"] == "4.2.0"
    assert report["report_id"] == str(report_id)
    assert report["reporter"] == {
        "org": "Example Hotline",
        "contact": "notices@hotline.example.org",
        "domain": "hotline.example.org",
    }
    assert report["sender"]["org"] == "Example Relay"
    assert report["source_identifier"] == "192.0.2.44"
    assert report["source_port"] == 443
    assert report["url"] == "https://files.example.com/gallery/item-17"
    assert report["domain"] == "files.example.com"
    assert report["classification"] == "A1"
    assert report["detection_method"] == "manual_review"
    assert report["media_type"] == "image"
    assert report["hash_values"] == {"sha256": SHA256_EMPTY, "pdq": "f" * 64}
    assert report["description"] == "n"
    assert report["custom"] == {
        "notice_id": "NTD-2025-0001",
        "reported_at": "2025-03-01T13:00:00Z",
        "grade": "penetrative",
        "uk_category": "A",
        "interpol_baseline": True,
        "vics_category": 1,
    }
    # Without a sender, the reporter sends; report ids are fresh UUIDs.
    one, two = build_report(notice()), build_report(notice())
    assert one["sender"] == one["reporter"]
    assert one["report_id"] != two["report_id"]
    assert uuid.UUID(one["report_id"]).version == 4


@pytest.mark.parametrize(
    ("url", "source", "domain"),
    [
        ("http://192.0.2.9/x", "192.0.2.9", None),
        ("http://[2001:db8::9]/x", "2001:db8::9", None),
        ("http://bücher.example/x", "xn--bcher-kva.example", None),  # pattern refuses "xn--"
        ("http://my_site.example.com/x", "my_site.example.com", None),  # and underscores
        ("http://Files.Example.COM:8080/x", "files.example.com", "files.example.com"),
    ],
)
def test_source_and_domain_without_an_ip(
    validator: Draft202012Validator, url: str, source: str, domain: str | None
) -> None:
    report = build_report(notice(url=url, source_ip=None, source_port=None))
    assert report["source_identifier"] == source
    assert report.get("domain") == domain
    assert "source_port" not in report
    assert errors_of(validator, report) == []


def test_an_ipv6_source_is_written_canonically() -> None:
    report = build_report(notice(source_ip="2001:DB8:0:0::44"))
    assert report["source_identifier"] == "2001:db8::44"


# --- Missing and wrong fields ------------------------------------------------------------

REQUIRED = [
    "xarf_version",
    "report_id",
    "timestamp",
    "reporter",
    "sender",
    "source_identifier",
    "category",
    "type",
    "url",
    "classification",
    "detection_method",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_a_missing_required_field_is_named(validator: Draft202012Validator, name: str) -> None:
    report = build_report(notice())
    del report[name]
    assert any(f"'{name}' is a required property" in m for m in errors_of(validator, report))
    assert f"$: '{name}' is a required property" in validate(report)


@pytest.mark.parametrize("name", ["org", "contact", "domain"])
def test_a_missing_contact_field_is_named_with_its_place(name: str) -> None:
    report = build_report(notice())
    del report["reporter"][name]
    assert validate(report) == [f"$.reporter: '{name}' is a required property"]


def test_wrong_values_are_named() -> None:
    report = build_report(notice())
    report["classification"] = "C"
    report["report_id"] = "NTD-2025-0001"
    report["timestamp"] = "2025-03-01T09:30:00"  # no offset
    report["hash_values"]["md5"] = "not-hex"
    errors = validate(report)
    assert any(e.startswith("$.classification: 'C' is not one of") for e in errors)
    assert "$.report_id: 'NTD-2025-0001' is not a 'uuid'" in errors
    assert "$.timestamp: '2025-03-01T09:30:00' is not a 'date-time'" in errors
    assert any(e.startswith("$.hash_values.md5: 'not-hex' does not match") for e in errors)


def test_a_missing_type_applies_every_content_type(validator: Draft202012Validator) -> None:
    # The master's if-clauses do not require "type", so without it every content type's
    # schema applies: that is why all the type schemas are vendored.
    report = build_report(notice())
    del report["type"]
    errors = validate(report)
    assert "$: 'type' is a required property" in errors
    assert "$: 'fraud_type' is a required property" in errors
    assert sorted(set(errors_of(validator, report))) == sorted({e[3:] for e in errors})


def test_validate_names_a_schema_it_cannot_resolve(tmp_path: Path) -> None:
    for name in ("xarf-v4-master.json", "xarf-core.json"):
        (tmp_path / name).write_bytes((SCHEMAS / name).read_bytes())
    report = build_report(notice())
    (error,) = validate(report, schema_dir=tmp_path)
    assert error.startswith("$: no vendored schema for content/csam")
    with pytest.raises(FileNotFoundError):
        validate(report, schema_dir=tmp_path / "missing")


def test_validate_without_jsonschema_returns_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    report = build_report(notice())
    del report["url"]
    assert validate(report) != []
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema now fails
    assert validate(report) == []


def test_the_module_does_not_import_jsonschema() -> None:
    code = (
        "import sys\n"
        "sys.modules['jsonschema'] = None\n"
        "sys.modules['referencing'] = None\n"
        "from openhotline.takedown import xarf\n"
        "print(xarf.validate({}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"grade": "adult"}, "not child sexual abuse material"),
        ({"grade": "unknown"}, "grade must be one of"),
        ({"classification": "C"}, "classification must be one of"),
        ({"detection_method": "guess"}, "detection_method must be one of"),
        ({"uk_category": "D"}, "uk_category must be one of"),
        ({"vics_category": 0}, "vics_category must be one of"),
        ({"source_ip": "not-an-ip"}, "does not appear to be an IPv4 or IPv6 address"),
        ({"source_port": 0}, "source_port must be an int from 1 to 65535"),
        ({"source_port": 65536}, "source_port must be an int from 1 to 65535"),
        ({"notes": "x" * 1001}, "notes is longer than 1000 characters"),
        ({"notice_id": " "}, "notice_id is empty"),
        ({"notice_id": "N-1\r\nBcc: x@example.org"}, "notice_id contains control characters"),
        ({"notes": "bell \x07"}, "notes contains control characters"),
        ({"notes": "lone \ud800 surrogate"}, "notes is not valid Unicode"),
        ({"url": "ftp://files.example.com/x"}, "Only web addresses"),
        ({"url": "https://"}, "no host name"),
        ({"hashes": [MediaHash("md5", MD5_EMPTY)] * 2}, "more than one md5 hash"),
    ],
)
def test_bad_input_is_refused_early(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        notice(**changes)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("md5", SHA256_EMPTY, "a md5 hash is 32 hexadecimal digits"),
        ("sha256", "z" * 64, "a sha256 hash is 64 hexadecimal digits"),
        ("pdq", "0" * 63, "a pdq hash is 64 hexadecimal digits"),
        ("photodna", "a b", "a photodna hash is"),
        ("tlsh", "00", "hash type must be one of"),
    ],
)
def test_bad_hashes_are_refused(kind: Any, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MediaHash(kind, value)


@pytest.mark.parametrize(
    ("org", "contact", "domain", "message"),
    [
        ("", "a@hotline.example.org", "hotline.example.org", "org is empty"),
        ("x" * 201, "a@hotline.example.org", "hotline.example.org", "longer than 200"),
        ("Hotline\nBcc: x", "a@hotline.example.org", "hotline.example.org", "control"),
        ("Hotline", "not an address", "hotline.example.org", "not an e-mail address"),
        ("Hotline", "a@hotline.example.org\n", "hotline.example.org", "control"),
        ("Hotline", "a@hotline.example.org", "bücher.example", "not a host name"),
        ("Hotline", "a@hotline.example.org", "localhost", "not a host name"),
    ],
)
def test_bad_contacts_are_refused(org: str, contact: str, domain: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Contact(org, contact, domain)


# --- Times -----------------------------------------------------------------------------


def test_times_carry_a_timezone() -> None:
    report = build_report(
        notice(
            verified_at=datetime(2025, 3, 1, 8, 0, 59, 999999, tzinfo=timezone(-timedelta(hours=5)))
        )
    )
    times = {
        "timestamp": report["timestamp"],
        "verified_at": report["verified_at"],
        "reported_at": report["custom"]["reported_at"],
    }
    assert times == {
        "timestamp": "2025-03-01T09:30:00Z",
        "verified_at": "2025-03-01T13:00:59Z",
        "reported_at": "2025-03-01T13:00:00Z",
    }
    for value in times.values():
        assert datetime.fromisoformat(value).utcoffset() == timedelta(0)


@pytest.mark.parametrize("name", ["first_seen", "reported_at", "verified_at"])
def test_naive_times_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be an aware datetime"):
        notice(**{name: datetime(2025, 3, 1, 9, 30)})


# --- No media, ever ----------------------------------------------------------------------


def test_the_input_has_no_place_for_media() -> None:
    names = {f.name for f in dataclasses.fields(XarfInput)}
    for word in ("evidence", "payload", "attach", "screenshot", "bytes", "base64", "file"):
        assert not any(word in name for name in names), word
    for hint in typing.get_type_hints(XarfInput).values():
        assert "bytes" not in str(hint)
    with pytest.raises(TypeError, match="evidence"):
        notice(evidence=[{"content_type": "image/png", "payload": "AAAA"}])
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice().notes = "changed"  # type: ignore[misc]
    # Frozen with slots: no new attribute either (CPython raises TypeError for slots).
    with pytest.raises((AttributeError, TypeError)):
        notice().evidence = []  # type: ignore[attr-defined]


def test_a_report_has_no_evidence_or_attachment_fields() -> None:
    report = build_report(notice(notes="see attached"))
    keys = {key for key, _ in walk(report)}
    assert not keys & {"evidence", "payload", "screenshot_url", "_internal", "attachments"}
    assert not any(isinstance(value, bytes | bytearray) for _, value in walk(report))


def test_a_report_with_evidence_cannot_be_serialised_or_attached() -> None:
    with_evidence = sample()  # the vendored sample carries a base64 evidence item
    assert with_evidence["evidence"]
    with pytest.raises(ValueError, match="never carries evidence"):
        to_json(with_evidence)
    message = EmailMessage("Notice", "Text.", "notices@hotline.example.org", ["a@example.net"])
    with pytest.raises(ValueError, match="never carries evidence"):
        attach_to(message, with_evidence)
    assert message.attachments == []
    for name, value in [
        ("evidence", [{"content_type": "text/plain", "payload": "AA=="}]),
        ("screenshot_url", "https://files.example.com/shot.png"),
        ("_internal", {"analyst": "a"}),
    ]:
        report = build_report(notice())
        report[name] = value
        with pytest.raises(ValueError, match=f"never carries {name}"):
            to_json(report)
    empty = build_report(notice())
    empty["evidence"] = []  # "absent or empty"
    assert json.loads(to_json(empty))["evidence"] == []


# --- JSON --------------------------------------------------------------------------------

INJECTION_ORG = 'Hotline "Q" <script>alert(1)</script> & Ünïcödé ☂ \u202ertl'
INJECTION_NOTES = (
    'line one\nline two\r\n"quoted" \'single\'\t</script><script>alert("x")</script>\n'
    'back\\slash \u2028 \u2029 日本語 \U0001f6e1 {"json": [1]} ${x} %s %(y)s'
)


def test_injection_values_survive_the_json_round_trip(validator: Draft202012Validator) -> None:
    reporter = Contact(INJECTION_ORG, "notices@hotline.example.org", "hotline.example.org")
    report = build_report(
        notice(
            reporter=reporter,
            notice_id="N-1'\"; DROP TABLE notices;--",
            notes=INJECTION_NOTES,
            url="https://files.example.com/a\"b/<script>?q='x' y&z=ü",
        )
    )
    text = to_json(report)
    assert json.loads(text) == report
    assert json.loads(text.encode("utf-8").decode("utf-8"))["description"] == INJECTION_NOTES
    assert report["reporter"]["org"] == INJECTION_ORG
    assert report["custom"]["notice_id"] == "N-1'\"; DROP TABLE notices;--"
    assert report["url"] == "https://files.example.com/a%22b/%3Cscript%3E?q='x'%20y&z=%C3%BC"
    assert errors_of(validator, report) == []


def test_json_is_stable_sorted_utf8() -> None:
    report = build_report(notice(notes="ü"))
    shuffled = dict(reversed(list(report.items())))
    assert to_json(shuffled) == to_json(report)
    text = to_json(report)
    assert list(json.loads(text)) == sorted(report)
    assert "ü" in text and "\\u00fc" not in text
    assert text.endswith("}\n")


# --- E-mail ----------------------------------------------------------------------------


def parse(message: EmailMessage) -> email.message.EmailMessage:
    raw = message.message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_the_attachment_is_xarf_json(validator: Draft202012Validator) -> None:
    report = build_report(notice(notes=INJECTION_NOTES))
    message = EmailMessage(
        "Notice NTD-2025-0001", "Human text.", "notices@hotline.example.org", ["abuse@example.net"]
    )
    attach_to(message, report)
    parsed = parse(message)
    assert parsed.get_content_type() == "multipart/mixed"  # Django's; see XarfEmailMessage
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "message/feedback-report",
        "application/json",
    ]
    json_part = parts[2]
    assert json_part.get_filename() == "xarf.json"
    assert json_part.get_param("name") == "xarf.json"
    assert json_part.get_content_disposition() == "attachment"
    assert json_part["Content-Transfer-Encoding"] == "base64"
    data = json_part.get_content()
    assert data == to_json(report).encode("utf-8")
    assert json.loads(data) == report
    assert errors_of(validator, json.loads(data)) == []


def test_xarf_email_message_is_an_rfc_6522_report() -> None:
    report = build_report(notice())
    message = XarfEmailMessage(
        "Notice NTD-2025-0001", "Human text.", "notices@hotline.example.org", ["abuse@example.net"]
    )
    attach_to(message, report, user_agent="OpenHotline/test")
    parsed = parse(message)
    assert parsed.get_content_type() == "multipart/report"
    assert parsed.get_param("report-type") == "feedback-report"
    human, feedback, json_part = parsed.iter_parts()
    assert human.get_content() == "Human text.\n"
    assert feedback.get_content_type() == "message/feedback-report"
    fields = email.message_from_bytes(feedback.get_content(), policy=email.policy.default)
    assert (fields["Feedback-Type"], fields["User-Agent"], fields["Version"]) == (
        "xarf",
        "OpenHotline/test",
        "1",
    )
    assert json.loads(json_part.get_content()) == report
    # Sending more than once gives the same structure.
    assert parse(message).get_content_type() == "multipart/report"


def test_an_xarf_notice_carries_nothing_else() -> None:
    report = build_report(notice())
    message = EmailMessage("Notice", "Text.", "notices@hotline.example.org", ["a@example.net"])
    message.attach("note.txt", "another attachment", "text/plain")
    with pytest.raises(ValueError, match="already has attachments"):
        attach_to(message, report)

    later = XarfEmailMessage("Notice", "Text.", "notices@hotline.example.org", ["a@example.net"])
    attach_to(later, report)
    later.attach("note.txt", "added afterwards", "text/plain")
    with pytest.raises(ValueError, match="nothing else"):
        later.message()

    no_body = XarfEmailMessage("Notice", "", "notices@hotline.example.org", ["a@example.net"])
    attach_to(no_body, report)
    with pytest.raises(ValueError, match="human-readable body"):
        no_body.message()

    with pytest.raises(ValueError, match="user_agent contains control characters"):
        attach_to(
            XarfEmailMessage("N", "T.", "notices@hotline.example.org", ["a@example.net"]),
            report,
            user_agent="OpenHotline\r\nBcc: x@example.org",
        )


# --- Classification --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "age_band", "non_photographic", "expected"),
    [
        ("penetrative", "3-6", False, "A1"),
        ("non_penetrative", "11-13", False, "A1"),
        ("sexual_posing", "7-10", False, "A2"),
        ("sadism", "14-15", False, "B1"),
        ("sexual_posing", "16-17", False, "B2"),
        ("indecent_other", "3-6", False, None),
        ("penetrative", None, False, None),
        ("penetrative", "3-6", True, None),
        ("adult", "16-17", False, None),
        (None, "3-6", False, None),
    ],
)
def test_classification_for(
    grade: str | None, age_band: str | None, non_photographic: bool, expected: str | None
) -> None:
    assert classification_for(grade, age_band, non_photographic=non_photographic) == expected


def test_classification_for_refuses_unknown_codes() -> None:
    with pytest.raises(ValueError, match="unknown grade"):
        classification_for("nope", "3-6")
    with pytest.raises(ValueError, match="unknown age band"):
        classification_for("penetrative", "99")


# --- Property ----------------------------------------------------------------------------

PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))
HOSTS = st.sampled_from(
    [
        "example.org",
        "Files.Example.com",
        "bücher.example",
        "192.0.2.7",
        "[2001:db8::7]",
        "my_site.example.net:8080",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https"]),
    host=HOSTS,
    path=st.text(PRINTABLE, max_size=60),
    query=st.text(PRINTABLE, max_size=40),
    notes=st.text(st.one_of(PRINTABLE, st.sampled_from("\n\r\t")), max_size=1000),
)
def test_any_printable_url_and_notes_round_trip_and_validate(
    validator: Draft202012Validator, scheme: str, host: str, path: str, query: str, notes: str
) -> None:
    raw = f"{scheme}://{host}/{path}" + (f"?{query}" if query else "")
    report = build_report(notice(url=raw, notes=notes))
    assert report["url"] == normalise_url(raw)
    assert normalise_url(report["url"]) == report["url"]
    assert report.get("description", "") == notes
    assert json.loads(to_json(report)) == report
    assert errors_of(validator, report) == []
    assert validate(report) == []
