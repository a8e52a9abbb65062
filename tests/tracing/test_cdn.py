"""Known CDN and reverse-proxy networks: the bundled data file and operators' own."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from openhotline.tracing import cdn
from openhotline.tracing.cdn import CdnDataError, CdnInfo, cdn_for


def test_simnet_cdn() -> None:
    assert cdn_for("127.77.250.7") == CdnInfo(
        provider="SimCDN",
        kind="cdn",
        network="127.77.250.0/24",
        abuse_email="abuse@simcdn.test",
        abuse_url="",
        notes="The simulated internet's CDN (demo and tests only).",
        source="openhotline.simnet",
    )


def test_real_providers_match() -> None:
    cloudflare = cdn_for("104.16.132.229")
    assert cloudflare is not None and cloudflare.provider == "Cloudflare"
    assert cloudflare.kind == "reverse_proxy" and cloudflare.network == "104.16.0.0/13"
    assert cloudflare.abuse_url.startswith("https://") and "cloudflare.com/ips" in cloudflare.source
    fastly = cdn_for("151.101.1.69")
    assert fastly is not None and fastly.provider == "Fastly" and fastly.abuse_email
    cloudfront = cdn_for("13.224.1.1")
    assert cloudfront is not None and cloudfront.provider == "Amazon CloudFront"


def test_no_match() -> None:
    assert cdn_for("127.77.1.1") is None  # a simnet host that is not behind the CDN
    assert cdn_for("8.8.8.8") is None
    assert cdn_for("2001:db8::1") is None


def test_ipv6_and_mapped_addresses() -> None:
    v6 = cdn_for("2606:4700::6810:84e5")
    assert v6 is not None and v6.provider == "Cloudflare" and v6.network == "2606:4700::/32"
    mapped = cdn_for("::ffff:127.77.250.7")
    assert mapped is not None and mapped.provider == "SimCDN"
    assert cdn_for("[2a04:4e42::1]") is not None


def test_not_an_address() -> None:
    with pytest.raises(ValueError, match="is not an IP address"):
        cdn_for("cdn.simcdn.test")


def test_bundled_file_is_complete() -> None:
    providers = cdn.providers()
    assert {p.name for p in providers} >= {
        "Cloudflare", "Fastly", "Akamai", "Amazon CloudFront", "SimCDN",
    }  # fmt: skip
    for provider in providers:
        assert provider.source and provider.networks, provider.name
        assert provider.abuse_email or provider.abuse_url, provider.name
        assert provider.kind in ("cdn", "reverse_proxy"), provider.name
    assert any(n.version == 6 for p in providers for n in p.networks)


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def provider(name: str, *networks: object, email: str = "abuse@x.test") -> dict[str, Any]:
    return {"name": name, "abuse_email": email, "source": "test", "networks": list(networks)}


def test_operators_own_file_and_the_most_specific_network(tmp_path: Path, settings: Any) -> None:
    path = write(
        tmp_path / "cdn.json",
        {
            "providers": [
                provider("Wide Proxy", "127.77.0.0/16", "fd77::/16"),
                provider("Narrow CDN", "127.77.250.128/25", email="abuse@narrow.test"),
            ]
        },
    )
    settings.CDN_NETWORKS_FILE = str(path)
    narrow = cdn_for("127.77.250.200")
    assert narrow is not None and narrow.provider == "Narrow CDN"
    assert narrow.abuse_email == "abuse@narrow.test" and narrow.kind == "cdn"
    wide = cdn_for("127.77.250.7")
    assert wide is not None and (wide.provider, wide.network) == ("Wide Proxy", "127.77.0.0/16")
    assert cdn_for("fd77::1") is not None
    assert cdn_for("104.16.132.229") is None  # the bundled file is not read as well


def test_changed_file_is_read_again(tmp_path: Path, settings: Any) -> None:
    path = write(tmp_path / "cdn.json", {"providers": [provider("Old", "127.77.9.0/24")]})
    settings.CDN_NETWORKS_FILE = str(path)
    assert cdn_for("127.77.9.9").provider == "Old"  # type: ignore[union-attr]
    write(path, {"providers": [provider("New", "127.77.9.0/24")]})
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cdn_for("127.77.9.9").provider == "New"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"cdn\.json: not JSON \(Expecting property name .* line 1, column 2\)"),
        ({"networks": []}, r'expected an object with a "providers" list'),
        ({"providers": ["Cloudflare"]}, r"provider 1: expected an object"),
        ({"providers": [{"networks": ["10.0.0.0/8"]}]}, r'provider 1: "name" must be'),
        (
            {"providers": [provider("Bad", "127.77.250.1/24")]},
            r"provider 1 \(Bad\): '127\.77\.250\.1/24' is not a network \(.*host bits set\)",
        ),
        (
            {"providers": [provider("Bad", "cdn.example")]},
            r"provider 1 \(Bad\): 'cdn\.example' is not a network",
        ),
        ({"providers": [provider("Bad", 5)]}, r"provider 1 \(Bad\): 5 is not a network"),
        ({"providers": [provider("Empty")]}, r'"networks" must be a non-empty list'),
        (
            {"providers": [provider("Mute", "127.77.0.0/16", email="")]},
            r'provider 1 \(Mute\): needs an "abuse_email" or an "abuse_url"',
        ),
        (
            {"providers": [{**provider("Odd", "127.77.0.0/16"), "abuse_url": 7}]},
            r'"abuse_url" must be a string',
        ),
    ],
)
def test_bad_data_file_is_a_clear_error(
    tmp_path: Path, settings: Any, content: Any, message: str
) -> None:
    settings.CDN_NETWORKS_FILE = str(write(tmp_path / "cdn.json", content))
    with pytest.raises(CdnDataError, match=message):
        cdn_for("127.77.250.7")


def test_missing_data_file(tmp_path: Path, settings: Any) -> None:
    settings.CDN_NETWORKS_FILE = str(tmp_path / "absent.json")
    with pytest.raises(CdnDataError, match=r"absent\.json: No such file or directory"):
        cdn_for("127.77.250.7")
