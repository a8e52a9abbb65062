"""VICS mapping tables: the data-model contexts, the hash names, the annotated fields.

What the reader (`vics_read`) and the writer (`vics_write`) agree on: the context each
version's annotation carries (character for character what IPED checks for), which
OpenHotline fields travel as "@openhotline.<field>" instance annotations, the hash names
VICS writes, and `Model`, the data model a file's context names (major version, profile,
Media or Cases). The format itself is described in `vics`.
"""

import re
from dataclasses import dataclass

CONTEXT_KEYS = ("odata.metadata", "@odata.context")
# What IPED checks for, character for character.
CONTEXTS = {
    "1.3": ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"),
    "2.0": (
        "@odata.context",
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
    ),
}
VERSIONS = tuple(CONTEXTS)
ANNOTATION = "@openhotline."
# Fields that travel as annotations; external_id only when MediaID cannot carry it.
ANNOTATED = (
    "grade",
    "uk_category",
    "interpol_baseline",
    "age_band",
    "non_photographic",
    "confirmed_by_police",
    "first_seen",
    "provenance",
    "retired",
    "retired_reason",
    "pdq_quality",
)
# Hash names as VICS writes them (top-level field or AlternativeHashes HashName).
HASH_NAMES = {
    "md5": "MD5",
    "sha1": "SHA1",
    "sha256": "SHA256",
    "pdq": "PDQ",
    "photodna": "PhotoDNA",
    "video": "vPDQ",
}
HASH_BY_NAME = {vics.lower(): name for name, vics in HASH_NAMES.items()} | {"video": "video"}
US_PROFILES = {None, "default", "us"}
MODEL_PATTERN = re.compile(
    r"DataModels/(?P<major>\d+)(?:\.\d+)*\.xml(?:/(?P<profile>[^/#$]+))?(?:/\$metadata)?"
    r"#(?P<entity>\w+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Model:
    """The data model a file's context names."""

    context: str
    major: int
    profile: str | None
    cases: bool

    @property
    def us_categories(self) -> bool:
        """Whether Category is Project VIC's US 0-4 scale (another profile's is not)."""
        return self.major == 1 or self.profile in US_PROFILES
