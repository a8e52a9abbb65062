"""Demo data: portals, staff accounts and a few reports of simnet addresses. Idempotent."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from openhotline.accounts.credentials import issue_credentials
from openhotline.accounts.models import Organisation, OrganisationKind, Role, User
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import FeedName, Licence, MemberKey, Membership, Tier
from openhotline.intake.models import Channel, Portal, Report
from openhotline.intake.services import accept_report
from openhotline.intake.validation import check_report
from openhotline.signals.lists import import_records
from openhotline.signals.models import HashList
from openhotline.signals.records import EntryRecord, FieldError, build_record
from openhotline.signals.types import MD5, PDQ
from openhotline.simnet import images
from openhotline.simnet.atlas import default_world
from openhotline.tracing.models import PartnerHotline, RoutingRule

PORTALS: list[dict[str, Any]] = [
    {
        "slug": "zambia",
        "name": "Zambia reporting portal",
        "country": "ZM",
        "languages": ["en"],
        "welcome_text": {"en": "Report child sexual abuse material found online, anonymously."},
    },
    {
        "slug": "senegal",
        "name": "Portail de signalement du Sénégal",
        "country": "SN",
        "languages": ["fr", "en"],
        "welcome_text": {
            "fr": "Signalez anonymement des contenus d'abus sexuels sur enfants trouvés en ligne.",
            "en": "Report child sexual abuse material found online, anonymously.",
        },
    },
    {
        "slug": "mauritius",
        "name": "Mauritius reporting portal",
        "country": "MU",
        "languages": ["en", "fr"],
        "welcome_text": {
            "en": "Report child sexual abuse material found online, anonymously.",
            "fr": "Signalez anonymement des contenus d'abus sexuels sur enfants trouvés en ligne.",
        },
    },
]

STAFF = [
    ("demo-analyst", Role.ANALYST),
    ("demo-qa", Role.QA_REVIEWER),
    ("demo-manager", Role.MANAGER),
    ("demo-admin", Role.ADMINISTRATOR),
    ("demo-police", Role.POLICE_LIAISON),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    totp_uri: str
    totp_secret_b32: str


def seed_portals() -> list[Portal]:
    portals = []
    for spec in PORTALS:
        partner, _ = Organisation.objects.get_or_create(
            name=f"{spec['country']} portal partner",
            defaults={"kind": OrganisationKind.PORTAL_PARTNER, "country": spec["country"]},
        )
        portal, _ = Portal.objects.update_or_create(
            slug=spec["slug"], defaults={**spec, "organisation": partner}
        )
        portals.append(portal)
    return portals


@transaction.atomic
def seed_staff() -> list[DemoAccount]:
    """Fresh passwords and TOTP secrets on every run; they are printed, never stored plain."""
    import base64

    accounts = []
    for username, role in STAFF:
        user, _ = User.objects.get_or_create(username=username)
        password, device = issue_credentials(user, role, password_bytes=12)
        accounts.append(
            DemoAccount(
                username=username,
                role=str(role.label),
                password=password,
                totp_uri=device.config_url,
                totp_secret_b32=base64.b32encode(device.bin_key).decode(),
            )
        )
    return accounts


def seed_reports(simnet_urls: list[str]) -> int:
    """A few reports of simnet pages, through each channel, once."""
    if Report.objects.exists():
        return 0
    portal = Portal.objects.filter(slug="senegal").first()
    batches = [
        (simnet_urls[:2], "Seen in a forum thread.", Channel.WEB, None),
        (simnet_urls[1:3], "Lien reçu par message.", Channel.PORTAL, portal),
        (simnet_urls[3:4], "", Channel.API, None),
        ([], "Shared in a chat app group called 'demo-group'.", Channel.WEB, None),
    ]
    for urls, description, channel, batch_portal in batches:
        checked = check_report(urls, description, "")
        accept_report(checked, channel=channel, portal=batch_portal, language="en")
    return len(batches)


# Benign simnet pictures given demo labels in a demo "police" list, so `make run` shows
# known-hash matches: (host, image, grade label, how many PDQ bits the entry is off by).
DEMO_LIST_IMAGES = [
    ("gallery-one.test", "sunrise-1.jpg", "sexual_posing", 0),
    ("gallery-one.test", "sunrise-2.png", "non_penetrative", 5),
]


def seed_hash_lists() -> int:
    """A demo police list whose entries are hashes of simnet pictures; once."""
    if HashList.objects.filter(name="demo-police").exists():
        return 0
    # A police list stays with the hotline: the demo member gets none of it.
    hash_list = HashList.objects.create(
        name="demo-police", source="police", share_with_members=False,
        description="Demo: benign simnet pictures with demo labels",
    )  # fmt: skip
    world = default_world()
    rows: list[tuple[str, EntryRecord, list[FieldError]]] = []
    for number, (host_name, image, grade, flipped) in enumerate(DEMO_LIST_IMAGES, start=1):
        host = world.host_by_name(host_name)
        fmt = images.format_for_name(image)
        assert host is not None and fmt is not None, image
        data = images.make_image(host.image_seed(image), fmt, host.image_size(image))
        (pdq,) = PDQ.compute(data, "image")
        near = f"{int(pdq.value, 16) ^ ((1 << flipped) - 1):064x}"
        fields = {"pdq": near, "grade": grade, "age_band": "11-13", "external_id": f"DEMO-{number}",
                  "provenance": "demo seed", "victim_identified": number == 1}  # fmt: skip
        if flipped == 0:
            (md5,) = MD5.compute(data, "image")
            fields["md5"] = md5.value
        rows.append((f"demo {number}", build_record(fields), []))
    summary = import_records(hash_list, iter(rows), source="demo-seed")
    return summary.created


def seed_routing() -> int:
    """Demo routing: GB is home (notice + police); NL's hotline takes referrals at a
    simnet address; other countries go to a police contact; US hosts also get our notice.
    Chase-ups come quickly so the demo shows them."""
    rules: list[dict[str, Any]] = [
        {"country": "GB", "route": "home", "police_contact": "cyber-unit@police.test",
         "chase_after_hours": 1, "escalate_to": "upstream-noc@transit.test"},
        {"country": "US", "route": "police", "police_contact": "us-liaison@police.test",
         "also_notice_host": True, "chase_after_hours": 1,
         "escalate_to": "upstream-noc@transit.test"},
        {"country": "", "route": "police", "police_contact": "interpol-route@police.test"},
    ]  # fmt: skip
    for rule in rules:
        RoutingRule.objects.get_or_create(country=rule["country"], defaults=rule)
    PartnerHotline.objects.update_or_create(
        country="NL",
        defaults={"name": "Offlimits", "email": "referrals@offlimits.test", "language": "nl"},
    )
    return len(rules)


@dataclass(frozen=True)
class DemoMember:
    account: DemoAccount
    organisation: str
    api_key: str


@transaction.atomic
def seed_member() -> DemoMember:
    """A demo member platform licensed for every feed (the Hash List in full) and the
    matching API with images, with a member user and a fresh API key each run (the last
    run's demo keys are revoked)."""
    import base64

    from django.utils import timezone

    org, _ = Organisation.objects.get_or_create(
        name="Demo Platform", defaults={"kind": OrganisationKind.MEMBER, "country": "GB"}
    )
    for feed in FeedName.values:
        tier = Tier.FULL if feed == FeedName.HASH_LIST else Tier.BASIC
        Licence.objects.get_or_create(organisation=org, feed=feed, defaults={"tier": tier})
    Membership.objects.update_or_create(
        organisation=org, defaults={"can_match": True, "can_send_images": True}
    )
    user, _ = User.objects.get_or_create(username="demo-member", defaults={"organisation": org})
    user.organisation = org
    password, device = issue_credentials(user, Role.MEMBER, password_bytes=12)
    MemberKey.objects.filter(organisation=org, name="demo", revoked_at=None).update(
        revoked_at=timezone.now()
    )
    issued = issue_key(org, feeds=list(FeedName.values), can_match=True, name="demo")
    account = DemoAccount(
        username=user.username, role=str(Role.MEMBER.label), password=password,
        totp_uri=device.config_url, totp_secret_b32=base64.b32encode(device.bin_key).decode(),
    )  # fmt: skip
    return DemoMember(account=account, organisation=org.name, api_key=issued.plaintext)
