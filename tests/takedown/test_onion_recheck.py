"""A recheck of an onion case fetches as its capture did: the page and every media item
(clear-web hosts too) only through the onion proxy, never from the hotline's address.

GIVEN the onion world of the capture tests, a captured onion case decided criminal with
      a picture served by a clear-web host
WHEN  the case is rechecked
THEN  the clear-web host sees only the proxy, and the picture counts as still served.
"""

import pytest

from openhotline.assessment.models import Decision, MediaGrade, Stage
from openhotline.evidence.capture import run_capture
from openhotline.takedown.models import RecheckResult
from openhotline.takedown.probe import probe
from tests.evidence.test_onion_capture import (  # noqa: F401 (the fixture)
    CLEAR_HOST,
    ONION,
    PROXY_ADDRESS,
    onion_world,
    report,
)

pytestmark = pytest.mark.django_db


def test_an_onion_cases_recheck_fetches_clear_web_media_only_through_the_proxy(
    onion_world,  # noqa: F811
    analyst,
) -> None:
    clear, dns, _proxy, _hidden = onion_world
    case = report(f"http://{ONION}/gallery")
    run_capture(case.captures.get().pk)
    item = case.captures.get().items.get(url__endswith=f"{CLEAR_HOST}:{clear.port}/pic.jpg")
    assert item.media is not None
    decision = Decision.objects.create(
        case=case, analyst=analyst, criminal=True, mapping="uk", site_type="website"
    )
    MediaGrade.objects.create(
        case=case, media=item.media, stage=Stage.FIRST, grader=analyst, decision=decision,
        grade="penetrative", age_band="7-10",
    )  # fmt: skip
    clear.requests.clear()
    dns.queries.clear()

    found = probe(case)

    assert found.result == RecheckResult.LIVE, found
    assert [seen.path for seen in clear.requests] == ["/pic.jpg"]
    assert {seen.client for seen in clear.requests} == {PROXY_ADDRESS}
    assert not [seen for seen in clear.requests if "referer" in seen.headers]
    assert dns.queries == []
