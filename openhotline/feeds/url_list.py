"""The URL List: a URL enters when a case is decided criminal and leaves when its removal
is confirmed (or a review reverses the decision). Onion services are left out: members
cannot block them and they are for police."""

from typing import Any

from openhotline.feeds import services
from openhotline.feeds.models import FeedName


def _listable(case: Any) -> bool:
    return bool(case.url) and not case.host.endswith(".onion")


def criminal(case: Any, uk_category: str = "") -> None:
    if _listable(case):
        data = {"added": case.created_at.date().isoformat(), "category": uk_category}
        services.add(FeedName.URL_LIST, case.url, data, reason=f"case {case.pk} criminal")


def gone(case: Any, why: str) -> None:
    if case.url:
        services.remove(FeedName.URL_LIST, case.url, reason=f"case {case.pk}: {why}"[:200])
