"""Jurisdiction-neutral grading of an image, and what a grade means under each law.

A grade records what an image shows in neutral terms (the most severe activity, the age
band of the youngest child, whether it is a photograph); a mapping turns that into a
legal classification: UK categories A/B/C (and "prohibited image" for non-photographic
material), INTERPOL's baseline, and Project VIC's US categories 0-4. This is the same
idea as the IWF's IntelliGrade: grade once, read it under any law.

The tables are data; the functions only look them up. The assessment screens will use
the same codes.
"""

from dataclasses import dataclass

# The most severe activity shown. Codes are stable: they are stored and exchanged.
ACTIVITIES: dict[str, str] = {
    "penetrative": "Penetrative sexual activity",
    "bestiality": "Sexual activity with an animal",
    "sadism": "Sadism or degradation",
    "non_penetrative": "Non-penetrative sexual activity",
    "sexual_posing": "Sexual posing or focus on genitals",
    "indecent_other": "Other indecent image",
}
# Not child sexual abuse material: graded so it is never graded again.
NOT_CSAM: dict[str, str] = {
    "adult": "Not CSAM: adult",
    "innocent": "Not CSAM: innocent image of a child",
    "off_remit": "Not CSAM: outside the hotline's remit",
}
GRADES: dict[str, str] = {**ACTIVITIES, **NOT_CSAM}

AGE_BANDS: dict[str, str] = {
    "0-2": "0 to 2 years",
    "3-6": "3 to 6 years",
    "7-10": "7 to 10 years",
    "11-13": "11 to 13 years",
    "14-15": "14 to 15 years",
    "16-17": "16 to 17 years",
}
# Age bands of a child who appears prepubescent: what INTERPOL's baseline asks for.
PREPUBESCENT_BANDS = frozenset({"0-2", "3-6", "7-10", "11-13"})

UK_CATEGORIES = ("A", "B", "C")
UK_PROHIBITED = "prohibited"  # non-photographic: Coroners and Justice Act 2009 s.62
VICS_CATEGORIES: dict[int, str] = {
    0: "Non-pertinent",
    1: "Child abuse material",
    2: "Child exploitive (non-CAM) / age difficult",
    3: "CGI or animation child abuse",
    4: "Comparison image",
}

# Sentencing Council categories for indecent images of children.
_UK_BY_ACTIVITY = {
    "penetrative": "A",
    "bestiality": "A",
    "sadism": "A",
    "non_penetrative": "B",
    "sexual_posing": "C",
    "indecent_other": "C",
}
# INTERPOL's baseline: a real, prepubescent child in sexual activity or with a focus on
# the genitals; the activities below qualify.
_BASELINE_ACTIVITIES = frozenset(
    {"penetrative", "bestiality", "sadism", "non_penetrative", "sexual_posing"}
)


@dataclass(frozen=True, slots=True)
class Classification:
    uk: str | None  # "A", "B", "C", "prohibited", or None when not criminal / unknown
    interpol_baseline: bool | None
    vics: int | None


def classify(grade: str | None, age_band: str | None, non_photographic: bool) -> Classification:
    """What a neutral grade means under each mapping; None where it cannot say."""
    if grade is None:
        return Classification(None, None, None)
    if grade not in GRADES:
        raise ValueError(f"unknown grade {grade!r}; known: {', '.join(GRADES)}")
    if age_band is not None and age_band not in AGE_BANDS:
        raise ValueError(f"unknown age band {age_band!r}; known: {', '.join(AGE_BANDS)}")
    if grade in NOT_CSAM:
        return Classification(None, False, 0)
    if non_photographic:
        return Classification(UK_PROHIBITED, False, 3)
    baseline = None
    if age_band is not None:
        baseline = grade in _BASELINE_ACTIVITIES and age_band in PREPUBESCENT_BANDS
    vics = 1 if grade in _BASELINE_ACTIVITIES or grade == "indecent_other" else 2
    return Classification(_UK_BY_ACTIVITY[grade], baseline, vics)


def severity_rank(uk: str | None) -> int:
    """Higher is more severe: for ordering queues and picking the worst of several matches."""
    return {"A": 4, "B": 3, "C": 2, UK_PROHIBITED: 1}.get(uk or "", 0)
