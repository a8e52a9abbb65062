"""docs/hash-list-format.md cannot drift from the code: its tables list every column the
hash-list file and the Hash List feed's CSV have (in their order), and every grade code
with what `grading.classify` makes of it under UK law, INTERPOL's baseline and VICS."""

from pathlib import Path

import openhotline
from openhotline import grading
from openhotline.feeds import render
from openhotline.signals.formats.base import COLUMNS

PAGE = Path(openhotline.__file__).parent.parent / "docs" / "hash-list-format.md"
PREPUBESCENT = sorted(grading.PREPUBESCENT_BANDS, key=lambda band: int(band.split("-")[0]))
OLDER = [band for band in grading.AGE_BANDS if band not in grading.PREPUBESCENT_BANDS]


def table(heading: str) -> list[list[str]]:
    """The rows of the first table under `heading`, cells stripped of spaces and
    backquotes, without the header and rule rows."""
    text = PAGE.read_text()
    start = text.index(f"\n{heading}\n")
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    assert len(rows) > 2, heading
    return rows[2:]


def yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[value]


def test_the_import_file_columns_are_the_readers_columns_in_order() -> None:
    assert [row[0] for row in table("### Import file columns")] == list(COLUMNS)


def test_the_feed_csv_columns_are_the_writers_header_in_order() -> None:
    header, _ = render.to_bytes("hash-list", "csv", [])
    columns = header.decode().strip().split(",")
    assert [row[0] for row in table("### Feed CSV columns")] == columns


def test_every_grade_code_is_listed_with_its_uk_interpol_and_vics_meaning() -> None:
    rows = {row[0]: row[1:] for row in table("## Grade codes")}
    assert list(rows) == list(grading.GRADES)
    for code, (meaning, uk, baseline_young, baseline_older, vics) in rows.items():
        assert meaning == grading.GRADES[code]
        # Every band of a column gives what the column says (the table merges them).
        young = {grading.classify(code, band, False) for band in PREPUBESCENT}
        older = {grading.classify(code, band, False) for band in OLDER}
        assert {c.uk or "—" for c in young | older} == {uk}, code
        assert {yes_no(c.interpol_baseline) for c in young} == {baseline_young}, code
        assert {yes_no(c.interpol_baseline) for c in older} == {baseline_older}, code
        assert {str(c.vics) for c in young | older} == {vics}, code
    assert "INTERPOL baseline, child aged 0-13" in PAGE.read_text()
    assert (PREPUBESCENT[0].split("-")[0], PREPUBESCENT[-1].split("-")[1]) == ("0", "13")


def test_the_rules_for_drawings_and_unknown_ages_are_the_codes() -> None:
    text = " ".join(PAGE.read_text().split())
    assert "every grade of child sexual abuse material becomes UK `prohibited`, INTERPOL " \
           "baseline no, VICS category 3" in text  # fmt: skip
    for code in grading.GRADES:
        drawn = {grading.classify(code, band, True) for band in grading.AGE_BANDS}
        unknown_age = grading.classify(code, None, False)
        if code in grading.NOT_CSAM:
            assert drawn == {grading.classify(code, "7-10", False)}
            assert unknown_age.interpol_baseline is False
        else:
            assert drawn == {grading.Classification(grading.UK_PROHIBITED, False, 3)}
            assert unknown_age.interpol_baseline is None
    made = {
        grading.classify(code, band, drawn).vics
        for code in grading.GRADES
        for band in grading.AGE_BANDS
        for drawn in (False, True)
    }
    assert made == {0, 1, 3}
    assert "OpenHotline's grades give 0, 1 or 3" in text
    bands = ", ".join(PREPUBESCENT[:-1]) + " and " + PREPUBESCENT[-1]
    assert f"(here the age bands {bands})" in text


def test_the_category_age_band_and_vics_tables_are_the_codes() -> None:
    uk = [row[0] for row in table("### UK categories")]
    assert uk == [*grading.UK_CATEGORIES, grading.UK_PROHIBITED]
    assert {row[0]: row[1] for row in table("### Age bands")} == grading.AGE_BANDS
    vics = {int(row[0]): row[1] for row in table("### VICS categories")}
    assert vics == grading.VICS_CATEGORIES


def test_the_page_is_linked_where_people_look() -> None:
    readme = (PAGE.parent.parent / "README.md").read_text()
    assert "docs/hash-list-format.md" in readme and "docs/feed-signatures.md" in readme
