"""What an item of the members' Hash List may carry, and what each licence tier sees of it."""

from openhotline.feeds.models import Tier

CATEGORY_FIELDS = ("uk_category", "interpol_baseline", "vics_category", "non_photographic")
FULL_FIELDS = (
    "list", "grade", "age_band", "victim_identified", "offender_identified", "series",
    "confirmed_by_police", "first_seen",
)  # fmt: skip
# Everything record_of may write.
RECORD_FIELDS = ("hashes", "pdq_quality", *CATEGORY_FIELDS, *FULL_FIELDS)
# What the feed keeps of an entry of a list that stopped being shared: its last removal's
# hashes, so a member holding it can drop it by them; no grading metadata, ever again.
WITHHELD_KEEPS = ("hashes",)
TIER_FIELDS: dict[str, tuple[str, ...]] = {
    Tier.BASIC: ("hashes", "pdq_quality"),
    Tier.CATEGORY: ("hashes", "pdq_quality", *CATEGORY_FIELDS),
    Tier.FULL: ("hashes", "pdq_quality", *CATEGORY_FIELDS, *FULL_FIELDS),
}
