"""Signed manifests: a download verifies; a flipped byte, a cut file or another key fails."""

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from openhotline.feeds import signing

BODY = (
    b'{"op":"add","key":"http://a.test/","seq":1}\n{"op":"remove","key":"http://a.test/","seq":2}\n'
)


def signed() -> dict:
    return signing.manifest(BODY, feed="url-list", kind="delta", from_seq=0, to_seq=2, count=2)


def test_a_download_verifies_against_the_published_key(db: None) -> None:
    published = Client().get("/.well-known/openhotline-feed-key.pem")
    assert published.status_code == 200
    fields = signing.verify(BODY, signed(), published.content)
    assert (fields["feed"], fields["to_seq"], fields["count"]) == ("url-list", 2, 2)


@pytest.mark.parametrize("position", [0, 10, len(BODY) - 1])
def test_a_flipped_byte_is_refused(position: int) -> None:
    broken = bytearray(BODY)
    broken[position] ^= 0x01
    with pytest.raises(signing.NotVerified, match="does not match"):
        signing.verify(bytes(broken), signed(), signing.public_key_pem())


def test_a_changed_manifest_or_another_key_is_refused() -> None:
    forged = {**signed(), "to_seq": 3}
    with pytest.raises(signing.NotVerified, match="signature"):
        signing.verify(BODY, forged, signing.public_key_pem())
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(signing.NotVerified, match="signature"):
        signing.verify(BODY, signed(), other)
    with pytest.raises(signing.NotVerified, match="does not match"):
        signing.verify(BODY[:-5], signed(), signing.public_key_pem())


def test_the_verify_feed_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "url-list.delta.jsonl"
    body.write_bytes(BODY)
    (tmp_path / "url-list.delta.jsonl.manifest.json").write_text(json.dumps(signed()))
    call_command("verify_feed", str(body))
    assert "verified" in capsys.readouterr().out
    body.write_bytes(BODY.replace(b"add", b"adD"))
    with pytest.raises(CommandError, match="NOT VERIFIED"):
        call_command("verify_feed", str(body))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("verify_feed", str(tmp_path / "missing.jsonl"))
