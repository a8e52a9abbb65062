"""docs/feed-signatures.md stays true: its worked example verifies from the page's own
text (with `cryptography`, and with OpenSSL's command line as the page says), tampering
with any of it fails, and the procedure it describes verifies what the hotline serves
now (pages plain and gzipped, snapshots, and a signed reset)."""

import base64
import gzip
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from django.test import Client

import openhotline
from openhotline.accounts.models import Organisation
from openhotline.feeds import services
from openhotline.feeds.keys import issue_key
from openhotline.feeds.models import Licence

PAGE = Path(openhotline.__file__).parent.parent / "docs" / "feed-signatures.md"


def blocks() -> dict[str, str]:
    """The page's fenced code blocks, by the name after their language."""
    found = dict(re.findall(r"^```\w+ ([\w-]+)\n(.*?)\n```$", PAGE.read_text(), re.S | re.M))
    expected = {"request", "response-headers", "x-feed-manifest", "body", "manifest",
                "signed-bytes", "key-file", "verify", "openssl"}  # fmt: skip
    assert expected <= set(found)
    return found


def doc_verifier() -> Any:
    """The page's Python example, run as written."""
    namespace: dict[str, Any] = {}
    exec(compile(blocks()["verify"], str(PAGE), "exec"), namespace)  # noqa: S102 - our own doc
    return namespace["verified"]


def example() -> tuple[str, bytes, bytes, dict[str, Any]]:
    """(X-Feed-Manifest, body, key file, manifest) as the page shows them."""
    b = blocks()
    # Each body line ends in a line feed, the last one too; the key file ends in one.
    return (b["x-feed-manifest"], (b["body"] + "\n").encode(), (b["key-file"] + "\n").encode(),
            json.loads(b["manifest"]))  # fmt: skip


def test_the_worked_example_verifies_from_the_pages_text() -> None:
    header, body, key_file, manifest = example()
    b = blocks()
    # The header is the manifest shown; the signed bytes are its canonical form.
    assert json.loads(base64.b64decode(header)) == manifest
    fields = {k: v for k, v in manifest.items() if k not in ("signature", "algorithm")}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert b["signed-bytes"] == canonical
    # Verified here with cryptography directly, not through the page's code or ours.
    pem = key_file[key_file.index(b"-----BEGIN") :]
    key = load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    key.verify(base64.b64decode(manifest["signature"]), b["signed-bytes"].encode())
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert hashlib.sha256(raw).hexdigest()[:16] == manifest["key_id"]
    assert f"Key id: {manifest['key_id']} (current)" in b["key-file"]
    assert f"`{raw.hex()}`" in PAGE.read_text()
    assert (hashlib.sha256(body).hexdigest(), len(body)) == (manifest["sha256"],
                                                             manifest["bytes"])  # fmt: skip
    assert f"The body, {len(body)} bytes" in PAGE.read_text()
    # The response headers shown agree with the manifest.
    shown = dict(line.split(": ", 1) for line in b["response-headers"].splitlines())
    assert shown["ETag"] == f'"{manifest["sha256"]}"'
    assert (shown["X-Feed-Cursor"], shown["X-Feed-Tag"], shown["X-Feed-More"]) == (
        str(manifest["to_seq"]),
        manifest["to_tag"],
        str(manifest["more"]).lower(),
    )
    assert [json.loads(line)["seq"] for line in body.splitlines()] == [1, 2]
    # And the page's own code says the same.
    assert doc_verifier()(header, body, key_file) == fields


def test_the_pages_code_refuses_a_tampered_example() -> None:
    verified = doc_verifier()
    header, body, key_file, manifest = example()
    with pytest.raises(ValueError, match="does not match"):
        verified(header, body.replace(b"bad-1", b"bad-9"), key_file)
    with pytest.raises(ValueError, match="does not match"):
        verified(header, body[:-1], key_file)  # cut short
    for field, value in [("to_seq", 3), ("more", True), ("head_seq", 1), ("key_id", "0" * 16)]:
        forged = base64.b64encode(json.dumps({**manifest, field: value}).encode()).decode()
        with pytest.raises((InvalidSignature, KeyError)):
            verified(forged, body, key_file)
    other_key = (
        b"Key id: 0000000000000000 (current)\n-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(bytes.fromhex("302a300506032b6570032100") + b"\x01" * 32)
        + b"\n-----END PUBLIC KEY-----\n"
    )
    with pytest.raises(KeyError):
        verified(header, body, other_key)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command here")
def test_the_openssl_commands_verify_the_example(tmp_path: Path) -> None:
    b = blocks()
    _, _, key_file, manifest = example()
    (tmp_path / "signed.bin").write_bytes(b["signed-bytes"].encode())
    (tmp_path / "sig.b64").write_text(manifest["signature"] + "\n")
    (tmp_path / "key.pem").write_bytes(key_file)
    result = subprocess.run(["sh", "-e", "-c", b["openssl"]], cwd=tmp_path, capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    forged_bytes = b["signed-bytes"].replace('"more":false', '"more":true')
    (tmp_path / "signed.bin").write_bytes(forged_bytes.encode())
    forged = subprocess.run(["sh", "-e", "-c", b["openssl"]], cwd=tmp_path, capture_output=True,
                            text=True, timeout=30, check=False)  # fmt: skip
    assert forged.returncode != 0


# --- the procedure against what the hotline serves now --------------------------------------


@pytest.fixture
def member() -> Client:
    org = Organisation.objects.create(name="Example Social", kind="member")
    Licence.objects.create(organisation=org, feed="url-list")
    services.add("url-list", "http://bad-1.test/gallery/", {"added": "2026-03-02", "category": "A"})
    services.add("url-list", "http://bad-2.test/", {"added": "2026-03-02", "category": "C"})
    key = issue_key(org, feeds=["url-list"]).plaintext
    return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.mark.django_db
def test_the_pages_procedure_verifies_what_the_hotline_serves(member: Client) -> None:
    verified = doc_verifier()
    key_file = Client().get("/.well-known/openhotline-feed-key.pem").content
    url = "/api/v1/feeds/url-list"
    plain = member.get(f"{url}/delta", {"cursor": "0"})
    fields = verified(plain["X-Feed-Manifest"], plain.content, key_file)
    assert (fields["from_seq"], fields["to_seq"], fields["count"]) == (0, 2, 2)
    # Gzipped: checked as served, and as an HTTP library that decompressed hands it over.
    zipped = member.get(f"{url}/delta", {"cursor": "0"}, headers={"Accept-Encoding": "gzip"})
    assert zipped["Content-Encoding"] == "gzip"
    assert verified(zipped["X-Feed-Manifest"], zipped.content, key_file)["encoding"] == "gzip"
    assert verified(zipped["X-Feed-Manifest"], gzip.decompress(zipped.content), key_file)
    snapshot = member.get(f"{url}/snapshot")
    assert verified(snapshot["X-Feed-Manifest"], snapshot.content, key_file)["kind"] == "snapshot"
    # A refused cursor's reset is signed the same way: every field but the two.
    refused = member.get(f"{url}/delta", {"cursor": "2", "tag": "0" * 16})
    assert refused.status_code == 400
    reset = refused.json()["reset"]
    assert (reset["kind"], reset["cursor"], reset["tag"]) == ("reset", "2", "0" * 16)
    rest = {k: v for k, v in reset.items() if k not in ("signature", "algorithm")}
    key = load_pem_public_key(key_file[key_file.index(b"-----BEGIN") :])
    assert isinstance(key, Ed25519PublicKey)
    key.verify(base64.b64decode(reset["signature"]),
               json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())  # fmt: skip
