"""The simnet hosts that misbehave on purpose do exactly what the capture tests rely on."""

import io
import struct
from collections.abc import Iterator

import dns.resolver
import httpx
import pytest
from PIL import Image

from openhotline.simnet.runner import Simnet


@pytest.fixture(scope="module")
def net() -> Iterator[Simnet]:
    with Simnet() as running:
        yield running


def get(net: Simnet, host: str, path: str, **headers: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(
            f"http://{net.address_of(host)}:{net.http_port}{path}",
            headers={"Host": f"{host}:{net.http_port}", **headers},
        )


def test_the_rebinding_host_alternates_between_allowed_and_forbidden(net: Simnet) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [net.dns_address], net.dns_port
    answers = [resolver.resolve("rebind.test", "A")[0].address for _ in range(4)]
    assert answers == ["127.77.9.10", "127.0.0.1", "127.77.9.10", "127.0.0.1"]


def test_the_disguised_host_shows_hidden_pictures_only_via_the_pathway(net: Simnet) -> None:
    plain = get(net, "disguised.test", "/").text
    pathway = get(net, "disguised.test", "/", Referer="http://forum-nl.test/thread/101").text
    assert "decoy-1.jpg" in plain and "hidden" not in plain
    assert "hidden-1.jpg" in pathway and "decoy" not in pathway
    image = get(net, "disguised.test", "/img/hidden-1.jpg")
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"


def test_redirect_chains_loops_and_forbidden_targets(net: Simnet) -> None:
    first = get(net, "redirects.test", "/chain/3")
    assert first.status_code == 302 and first.headers["location"] == "/chain/2"
    second = get(net, "redirects.test", "/chain/2")
    assert second.headers["location"].startswith("http://redirects.test:")
    assert "end.png" in get(net, "redirects.test", "/chain/0").text
    assert get(net, "redirects.test", "/loop").headers["location"] == "/loop"
    assert get(net, "redirects.test", "/to-loopback?port=9").headers["location"] == (
        "http://127.0.0.1:9/canary"
    )
    assert "169.254.169.254" in get(net, "redirects.test", "/to-metadata").headers["location"]


def test_the_hostile_host_serves_trouble(net: Simnet) -> None:
    page = get(net, "hostile.test", "/page").text
    assert "/bomb.png" in page and "/corrupt.jpg" in page and "/slow" in page
    huge = get(net, "hostile.test", "/huge?bytes=300000")
    assert len(huge.content) == 300_000
    corrupt = get(net, "hostile.test", "/corrupt.jpg").content
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(corrupt)).load()
    bomb = get(net, "hostile.test", "/bomb.png").content
    assert len(bomb) < 10_000
    assert struct.unpack(">II", bomb[16:24]) == (100_000, 100_000)  # IHDR width, height
