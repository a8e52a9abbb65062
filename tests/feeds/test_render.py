"""The feed writers: CSV lines joined by hand are exactly what csv.writer writes, for
every kind of cell, and read back as the cells written (a CR in a cell included); the
Hash List's VICS is what the VICS writer makes of the entries' records."""

import csv
import datetime as dt
import io
import itertools

from openhotline.feeds import render
from openhotline.feeds.hash_list import CATEGORY_FIELDS, FULL_FIELDS
from openhotline.signals.formats import vics
from openhotline.signals.formats.csv_format import guard
from openhotline.signals.records import EntryRecord

TRICKY = [
    "plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "=1+1", "'quoted", "", " spaced ",
    "ünïcode ✓", "-5", "+44", "@x", "\ttab", ",", '"', "\n", 'a,"b"\nc', "0",
]  # fmt: skip


def reference(feed: str, rows: list[render.Row]) -> bytes:
    """csv.writer all the way (every cell quoted in a row with a CR, which csv.writer
    would leave bare)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    all_quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    hashes = feed == "hash-list"
    fields = (*render.HASH_COLUMNS, *CATEGORY_FIELDS, *FULL_FIELDS) if hashes else ("data",)
    writer.writerow(["seq", "op", "key", *fields])
    for seq, op, key, data in rows:
        if hashes:
            found = {**data.get("hashes", {}), **data}
            cells = [render._cell(found.get(name)) for name in fields]
        else:
            cells = [guard(render.orjson.dumps(data, option=render.orjson.OPT_SORT_KEYS).decode())]
        line = [seq, op, guard(key), *cells]
        (all_quoted if any("\r" in str(cell) for cell in line) else writer).writerow(line)
    return out.getvalue().encode()


def test_hash_list_csv_is_byte_for_byte_what_csv_writer_writes() -> None:
    rows: list[render.Row] = []
    for n, (series, grade, key) in enumerate(itertools.product(TRICKY, TRICKY[:6], TRICKY[:4])):
        rows.append((n + 1, "remove" if n % 7 == 0 else "add", f"{key}{n}", {
            "hashes": {"md5": f"{n:032x}", "pdq": "f" * 64},
            "series": series, "grade": grade, "victim_identified": n % 2 == 0,
            "vics_category": n % 3, "pdq_quality": None if n % 5 else 90,
        }))  # fmt: skip
    body, count = render.to_bytes("hash-list", "csv", rows)
    assert count == len(rows) and body == reference("hash-list", rows)
    parsed = list(csv.reader(io.StringIO(body.decode(), newline="")))
    header = parsed[0]
    assert len(parsed) == len(rows) + 1
    for row, (_, _, _, data) in zip(parsed[1:], rows, strict=True):
        assert row[header.index("series")] == render._cell(data["series"])
        assert row[header.index("md5")] == data["hashes"]["md5"]


def test_other_feeds_csv_is_what_csv_writer_writes() -> None:
    rows: list[render.Row] = [
        (n + 1, "add", f"http://{n}.test/{value}", {"term": value, "note": value[::-1]})
        for n, value in enumerate(TRICKY)
    ]
    body = render.to_bytes("keyword-list", "csv", rows)[0]
    assert body == reference("keyword-list", rows)
    parsed = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert [render.orjson.loads(row[3])["term"] for row in parsed[1:]] == TRICKY


def test_hash_list_vics_is_what_the_vics_writer_makes_of_the_entry_records() -> None:
    # The feed's data goes to the writer as a mapping; the bytes are those of records.
    full = {
        "hashes": {"md5": "a" * 32, "sha1": "b" * 40, "sha256": "c" * 64, "pdq": "d" * 64,
                   "photodna": "0" * 288},
        "list": "own-grading", "pdq_quality": 90, "grade": "non_penetrative",
        "uk_category": "B", "interpol_baseline": True, "vics_category": 2, "age_band": "7-10",
        "non_photographic": True, "victim_identified": False, "offender_identified": True,
        "series": 'a "series", with\nlines', "confirmed_by_police": True,
        "first_seen": "2024-05-06",
    }  # fmt: skip
    bare = {"hashes": {"md5": "e" * 32}}
    rows: list[render.Row] = [
        (1, "add", "000000000001", full), (2, "add", "000000000002", bare),
        (3, "remove", "000000000001", full),
    ]  # fmt: skip
    records = [
        EntryRecord(
            hashes=data["hashes"], external_id=str(int(key)), grade=data.get("grade"),
            uk_category=data.get("uk_category"),
            interpol_baseline=data.get("interpol_baseline"),
            vics_category=data.get("vics_category"), age_band=data.get("age_band"),
            non_photographic=data.get("non_photographic", False),
            victim_identified=data.get("victim_identified"),
            offender_identified=data.get("offender_identified"),
            series=data.get("series", ""), confirmed_by_police=data.get("confirmed_by_police"),
            first_seen=dt.date.fromisoformat(data["first_seen"]) if "first_seen" in data else None,
            pdq_quality=data.get("pdq_quality"), retired=op == "remove",
            retired_reason="removed from the Hash List" if op == "remove" else "",
        )
        for _, op, key, data in rows
    ]  # fmt: skip
    expected = io.BytesIO()
    vics.write(records, expected, "2.0")
    assert render.to_bytes("hash-list", "vics", rows) == (expected.getvalue(), 3)
    assert b'"@openhotline.retired":true' in expected.getvalue()
