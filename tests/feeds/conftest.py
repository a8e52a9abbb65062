"""Fixtures of the member client's tests (a member organisation licensed for the URL List,
its key, the hotline's published key as a member pins it, the copy's folder)."""

from pathlib import Path

import pytest

from openhotline.accounts.models import Organisation, OrganisationKind
from openhotline.feeds import signing
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import Licence

FEED = "url-list"


@pytest.fixture
def company() -> Organisation:
    org = Organisation.objects.create(name="Example Social", kind=OrganisationKind.MEMBER)
    Licence.objects.create(organisation=org, feed=FEED)
    return org


@pytest.fixture
def api_key(company: Organisation) -> str:
    return issue_key(company, feeds=[FEED]).plaintext


@pytest.fixture
def hotline_pem(tmp_path: Path) -> Path:
    path = tmp_path / "hotline-feed-key.pem"
    path.write_bytes(signing.public_key_pem())
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "copy"
