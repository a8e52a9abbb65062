"""Signing keys of their own: a master-key rotation leaves the keys members and police
pinned alone; a rollover publishes the next key beside the signing one, so a member who
pinned both carries on when it starts signing; packages and manifests cannot pass for
each other."""

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import Client

from openhotline.accounts.models import Organisation, OrganisationKind
from openhotline.core import signing_keys
from openhotline.feeds import client, services, signing
from openhotline.feeds.client import NotVerified
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import Licence
from openhotline.takedown import package

FEED = "url-list"
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()


def key_id_of(value: str) -> str:
    return signing_keys.key_id(signing_keys.parse_private(value).public_key())


def test_rotating_the_master_key_leaves_the_published_keys_alone(settings) -> None:
    """Before, both keys were derived from the master key: a rotation changed them."""
    feed_key, package_key = signing.public_key_pem(), package.public_key_pem()
    settings.MASTER_KEY = base64.b64encode(b"n" * 32).decode()
    settings.PREVIOUS_MASTER_KEY = base64.b64encode(b"m" * 32).decode()
    assert signing.public_key_pem() == feed_key and package.public_key_pem() == package_key
    assert package_key in feed_key  # one key signs both


def test_without_a_signing_key_the_keys_derived_before_are_kept_with_a_warning(
    settings,
) -> None:
    settings.SIGNING_KEY = None
    derived = Ed25519PrivateKey.from_private_bytes(signing_keys.derived_key(signing.PURPOSE))
    assert signing.public_key_pem().endswith(signing_keys.public_pem(derived.public_key()))
    manifest = signing.manifest(b"x", feed=FEED)
    assert manifest["key_id"] == signing_keys.key_id(derived.public_key())
    ids = {m.id for m in signing_keys.check_signing_keys(None)}
    assert ids == {"openhotline.W020"}
    settings.SIGNING_KEY = KEY_A
    assert signing_keys.check_signing_keys(None) == []
    for bad in ("not base64!", base64.b64encode(b"short").decode(), "-----BEGIN junk"):
        settings.SIGNING_KEY_NEXT = bad
        assert [m.id for m in signing_keys.check_signing_keys(None)] == ["openhotline.E020"]


def test_a_pem_signing_key_is_read_too(settings) -> None:
    private = Ed25519PrivateKey.generate()
    settings.SIGNING_KEY = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    assert signing.manifest(b"x", feed=FEED)["key_id"] == signing_keys.key_id(private.public_key())


@pytest.mark.django_db
def test_the_published_file_lists_every_key_with_its_id_and_role(settings) -> None:
    settings.SIGNING_KEY, settings.SIGNING_KEY_NEXT = KEY_A, KEY_B
    published = Client().get("/.well-known/openhotline-feed-key.pem").content.decode()
    assert f"Key id: {key_id_of(KEY_A)} (current)" in published.splitlines()[0]
    assert f"Key id: {key_id_of(KEY_B)} (next)" in published
    assert list(client.load_public_keys(published.encode())) == [key_id_of(KEY_A),
                                                                   key_id_of(KEY_B)]  # fmt: skip
    # Signed by the current key only; verify-feed takes the whole file.
    body = b'{"op":"add","key":"http://a.test/","seq":1}\n'
    manifest = signing.manifest(body, feed=FEED, kind="delta", from_seq=0, to_seq=1, count=1)
    assert manifest["key_id"] == key_id_of(KEY_A)
    assert signing.verify(body, manifest, published.encode())["to_seq"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_member_who_pinned_the_published_keys_carries_on_through_a_rollover(
    live_server, settings, tmp_path: Path
) -> None:
    """GIVEN a hotline signing with A and publishing B as next, and two members: one
    pinned what was published (A and B), one pinned A alone WHEN the hotline makes B its
    signing key (A previous) THEN the first carries on; the second's pages fail to verify
    and its copy stays as it was."""
    settings.SIGNING_KEY, settings.SIGNING_KEY_NEXT = KEY_A, KEY_B
    org = Organisation.objects.create(name="Example Social", kind=OrganisationKind.MEMBER)
    Licence.objects.create(organisation=org, feed=FEED)
    key = issue_key(org, feeds=[FEED]).plaintext
    only_a = tmp_path / "a.pem"
    only_a.write_bytes(signing_keys.public_pem(signing_keys.parse_private(KEY_A).public_key()))
    services.add(FEED, "http://bad-1.test/")
    quiet: dict[str, Any] = {"warn": lambda message: None}
    both, alone = tmp_path / "both", tmp_path / "alone"
    client.sync(live_server.url, key, FEED, both, **quiet)  # pins the published file
    client.sync(live_server.url, key, FEED, alone, public_key=only_a, **quiet)
    settings.SIGNING_KEY, settings.SIGNING_KEY_NEXT = KEY_B, None
    settings.SIGNING_KEY_PREVIOUS = KEY_A
    services.add(FEED, "http://bad-2.test/")
    assert client.sync(live_server.url, key, FEED, both, **quiet).count == 2
    with pytest.raises(NotVerified, match="does not verify with the pinned key"):
        client.sync(live_server.url, key, FEED, alone, **quiet)
    with client.FeedCopy(alone, FEED) as copy:
        assert copy.count == 1


@pytest.mark.django_db
def test_packages_verify_through_a_rollover_and_a_manifest_is_no_package(
    settings, tmp_path: Path
) -> None:
    settings.SIGNING_KEY, settings.SIGNING_KEY_NEXT = KEY_A, KEY_B
    before_rollover = package.published_pem()
    manifest = signing.manifest(b"x", feed=FEED, format="openhotline-intelligence-package/0")
    fields = {k: v for k, v in manifest.items() if k not in ("signature", "algorithm")}
    document = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:  # a package made of a signed manifest
        archive.writestr("package.json", document)
        archive.writestr("package.json.sig", manifest["signature"])
    with pytest.raises(ValueError, match="not an intelligence package"):
        package.verify(out.getvalue(), before_rollover)
    document = json.dumps({"format": package.FORMAT, "case": {"id": 1}}).encode()
    signature = base64.b64encode(signing_keys.parse_private(KEY_B).sign(document))
    made_after = io.BytesIO()
    with zipfile.ZipFile(made_after, "w") as archive:  # signed once B signs
        archive.writestr("package.json", document)
        archive.writestr("package.json.sig", signature)
    assert package.verify(made_after.getvalue(), before_rollover)["case"] == {"id": 1}
    with pytest.raises(ValueError, match="does not verify"):
        package.verify(made_after.getvalue(), package.public_key_pem())  # A alone


def test_generate_secrets_makes_a_signing_key_and_a_next_one(tmp_path: Path, capsys) -> None:
    call_command("generate_secrets", str(tmp_path))
    out = capsys.readouterr().out
    assert f"export OPENHOTLINE_SIGNING_KEY_FILE={tmp_path / 'signing_key'}" in out
    made = (tmp_path / "signing_key").read_text()
    assert (
        signing_keys.parse_private(made) and (tmp_path / "signing_key").stat().st_mode & 0o77 == 0
    )
    call_command("generate_secrets", str(tmp_path), "--next-signing-key")
    out = capsys.readouterr().out
    assert "export OPENHOTLINE_SIGNING_KEY_NEXT_FILE=" in out
    assert (tmp_path / "signing_key_next").read_text() != made
    assert (tmp_path / "signing_key").read_text() == made  # never overwritten
