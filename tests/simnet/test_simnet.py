"""The simulated internet: DNS answers, web pages, images, ports and the management command."""

from __future__ import annotations

import html
import io
import ipaddress
import os
import queue
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import httpx
import pytest
from PIL import Image, ImageChops

from openhotline.simnet.atlas import default_world
from openhotline.simnet.images import make_jpeg, make_png
from openhotline.simnet.runner import Simnet
from openhotline.simnet.world import SimHost, SimPage, World, WorldError, pages

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def net() -> Iterator[Simnet]:
    with Simnet() as running:
        yield running


def resolver(net: Simnet) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [net.dns_address]
    res.port = net.dns_port
    res.lifetime = 3
    return res


def ask(net: Simnet, name: str, tcp: bool, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, net.dns_address, port=net.dns_port, timeout=3)


def fetch(ip: str, port: int, host: str, path: str) -> httpx.Response:
    # trust_env=False: a proxy from the environment must never see simnet traffic.
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(f"http://{ip}:{port}{path}", headers={"Host": host})


def get(net: Simnet, host: str, path: str = "/") -> httpx.Response:
    return fetch(net.address_of(host), net.http_port, host, path)


def decode(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


# -- world --------------------------------------------------------------------------------


def test_it_keeps_the_default_world_on_loopback_under_test() -> None:
    world = default_world()
    net = ipaddress.ip_network(world.network)
    assert len(world.hosts) >= 6
    for host in world.hosts:
        assert host.name.endswith(".test")
        assert ipaddress.ip_address(host.address) in net
        assert ipaddress.ip_address(host.address).is_loopback
    assert {host.country for host in world.hosts} >= {"GB", "NL", "US", "RU", "XK"}
    assert world.host_by_name("WWW.Gallery-One.test.") is world.host_by_name("gallery-one.test")
    assert world.host_by_name("nowhere.test") is None


def test_it_rejects_worlds_that_leave_loopback_or_dangle() -> None:
    page = SimPage("/p", "P", images=("a.png",))
    with pytest.raises(WorldError):
        World(hosts=(SimHost("a.test", "10.0.0.1", "GB", "off loopback", pages(page)),))
    with pytest.raises(WorldError):
        World(hosts=(SimHost("a.example", "127.77.9.9", "GB", "wrong zone"),))
    with pytest.raises(WorldError):
        World(
            hosts=(SimHost("a.test", "127.77.9.9", "GB", "x"),),
            aliases={"b.test": "missing.test"},
        )
    bad = SimPage("/p", "P", remote_images=("a.test/missing.png",))
    with pytest.raises(WorldError):
        World(hosts=(SimHost("a.test", "127.77.9.9", "GB", "x", pages(bad)),))


def test_it_extends_a_world_with_more_hosts() -> None:
    extra = SimHost("extra.test", "127.77.9.10", "DE", "added by a test")
    world = default_world().with_hosts(extra, aliases={"www.extra.test": "extra.test"})
    assert world.host_by_name("www.extra.test") == extra


# -- images -------------------------------------------------------------------------------


def test_it_makes_deterministic_valid_images_that_differ_by_seed() -> None:
    assert make_png("one") == make_png("one")
    assert make_jpeg("one", (100, 50)) == make_jpeg("one", (100, 50))
    png, jpeg = decode(make_png("one")), decode(make_jpeg("one", (100, 50)))
    assert (png.format, png.size) == ("PNG", (320, 240))
    assert (jpeg.format, jpeg.size) == ("JPEG", (100, 50))
    assert mean_difference(decode(make_png("one")), decode(make_png("two"))) > 10


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    histogram = diff.histogram()
    return sum(value * count for value, count in enumerate(histogram)) / sum(histogram)


# -- DNS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_it_answers_a_records(net: Simnet, tcp: bool) -> None:
    for host in net.world.hosts:
        if host.rebind_to:
            continue  # answers alternate; see test_behaviours
        answer = resolver(net).resolve(host.name, "A", tcp=tcp)
        # A host behind a CDN resolves to the CDN's edge (see test_notices).
        assert [rr.address for rr in answer] == [host.cdn or host.address]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_it_follows_cname_chains(net: Simnet, tcp: bool) -> None:
    answer = resolver(net).resolve("www.gallery-one.test", "A", tcp=tcp)
    assert str(answer.canonical_name) == "gallery-one.test."
    assert [rr.address for rr in answer] == ["127.77.1.10"]
    # Two hops: media.forum-nl.test -> www.imagehost.test -> imagehost.test.
    answer = resolver(net).resolve("media.forum-nl.test", "A", tcp=tcp)
    assert str(answer.canonical_name) == "imagehost.test."
    assert [rr.address for rr in answer] == ["127.77.1.11"]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_it_answers_nxdomain_for_unknown_test_names(net: Simnet, tcp: bool) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(net).resolve("no-such-site.test", "A", tcp=tcp)
    reply = ask(net, "deeper.gallery-one.test", tcp)
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.AA


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_it_refuses_names_outside_test_and_never_recurses(net: Simnet, tcp: bool) -> None:
    for name in ("example.com", "localhost", "test.example"):
        reply = ask(net, name, tcp)
        assert reply.rcode() == dns.rcode.REFUSED
        assert not reply.answer
        assert not reply.flags & dns.flags.RA


def test_it_answers_nodata_for_missing_record_types(net: Simnet) -> None:
    reply = ask(net, "gallery-one.test", tcp=False, rdtype="AAAA")
    assert reply.rcode() == dns.rcode.NOERROR
    assert not reply.answer


# -- web ----------------------------------------------------------------------------------


def test_it_serves_each_site_by_host_header(net: Simnet) -> None:
    for host in net.world.hosts:
        if host.behaviour == "disguised":
            continue  # its home page is the disguise; see test_behaviours
        response = get(net, host.name)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert int(response.headers["content-length"]) == len(response.content)
        assert html.escape(host.description) in response.text
        for path, page in host.pages.items():
            assert page.title in get(net, host.name, path).text


def test_it_serves_two_sites_on_one_address(net: Simnet) -> None:
    shared = "127.77.1.11"
    first = fetch(shared, net.http_port, "imagehost.test", "/")
    second = fetch(shared, net.http_port, "static.imagehost.test", "/")
    alias = fetch(shared, net.http_port, "www.imagehost.test", "/i/x7k2")
    assert (first.status_code, second.status_code, alias.status_code) == (200, 200, 200)
    assert "static.imagehost.test" in second.text
    assert "imagehost.test" in first.text
    assert first.text != second.text
    assert "Image x7k2" in alias.text


@pytest.mark.parametrize(
    ("ip", "host", "path"),
    [
        ("127.77.1.10", "unknown.test", "/"),
        ("127.77.1.10", "example.com", "/"),
        ("127.77.1.10", "forum-nl.test", "/"),  # a real site, but it lives elsewhere
        ("127.77.1.10", "127.77.9.9", "/"),
        ("127.77.1.10", "gallery-one.test", "/no/such/page"),
        ("127.77.1.10", "gallery-one.test", "/img/not-there.png"),
        ("127.77.1.10", "gallery-one.test", "/img/x7k2.jpg"),  # imagehost's image
        ("127.77.1.10", "gallery-one.test", "/img/../etc/passwd"),
    ],
)
def test_it_returns_404_for_unknown_hosts_and_paths(
    net: Simnet, ip: str, host: str, path: str
) -> None:
    assert fetch(ip, net.http_port, host, path).status_code == 404


def test_it_serves_the_default_site_for_a_bare_ip(net: Simnet) -> None:
    response = fetch("127.77.1.10", net.http_port, "127.77.1.10", "/")
    assert response.status_code == 200
    assert "gallery-one.test" in response.text


def test_it_serves_deterministic_images_that_differ_by_seed(net: Simnet) -> None:
    first = get(net, "gallery-one.test", "/img/sunrise-2.png")
    again = get(net, "gallery-one.test", "/img/sunrise-2.png")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    assert first.content == again.content
    assert decode(first.content).format == "PNG"
    jpeg = get(net, "gallery-one.test", "/img/sunrise-1.jpg")
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert decode(jpeg.content).format == "JPEG"
    other = get(net, "pics-us.test", "/img/p2.png")
    assert other.content != first.content
    assert mean_difference(decode(first.content), decode(other.content)) > 10


def test_it_serves_byte_identical_images_on_a_mirror(net: Simnet) -> None:
    original = get(net, "gallery-one.test", "/img/sunrise-1.jpg").content
    mirrored = get(net, "mirror-ru.test", "/img/sunrise-1.jpg").content
    assert original == mirrored


def test_it_answers_head_without_a_body(net: Simnet) -> None:
    with httpx.Client(trust_env=False, timeout=5) as client:
        response = client.head(
            f"http://127.77.1.10:{net.http_port}/img/shapes-1.png",
            headers={"Host": "gallery-one.test"},
        )
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


class _Refs(HTMLParser):
    """Collects links and image references the way a crawler would have to."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.kinds: set[str] = set()
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "a":
            self.links.append(values["href"])
        elif tag == "img":
            self.images.append(values["src"])
            self.kinds.add("img")
            if "srcset" in values:
                self.kinds.add("srcset")
                self.images.extend(part.split()[0] for part in values["srcset"].split(","))
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            found = re.findall(r"url\('([^']+)'\)", data)
            self.kinds.update("css" for _ in found)
            self.images.extend(found)


def test_it_links_only_pages_and_images_that_exist(net: Simnet) -> None:
    kinds: set[str] = set()
    checked = 0
    for host in net.world.hosts:
        index = _Refs()
        index.feed(get(net, host.name).text)
        assert sorted(index.links) == sorted(host.pages)
        for link in index.links:
            base = net.url(host.name, link)
            page = _Refs()
            page.feed(get(net, host.name, link).text)
            kinds |= page.kinds
            for ref in page.images:
                url = urlsplit(urljoin(base, ref))
                assert url.port == net.http_port
                name = url.hostname or ""
                address = resolver(net).resolve(name, "A")[0].address
                response = fetch(address, net.http_port, name, url.path)
                assert response.status_code == 200, url.geturl()
                assert decode(response.content).format in ("PNG", "JPEG")
                checked += 1
    assert kinds == {"img", "srcset", "css"}
    assert checked > 10


# -- runner -------------------------------------------------------------------------------


def test_it_exposes_settings_values_and_urls(net: Simnet) -> None:
    assert net.dns_servers == f"127.77.0.53:{net.dns_port}"
    assert net.allow_nets == "127.77.0.0/16"
    assert net.url("gallery-one.test") == f"http://gallery-one.test:{net.http_port}/"
    assert net.url("pics-us.test", "/p/1").endswith(f":{net.http_port}/p/1")
    with pytest.raises(KeyError):
        net.url("example.com")


def test_it_frees_its_ports_on_stop() -> None:
    with Simnet() as first:
        http_port, dns_port = first.http_port, first.dns_port
        assert get(first, "gallery-one.test").status_code == 200
    with pytest.raises(httpx.ConnectError):
        fetch("127.77.1.10", http_port, "gallery-one.test", "/")
    with Simnet(http_port=http_port, dns_port=dns_port) as second:
        assert (second.http_port, second.dns_port) == (http_port, dns_port)
        assert get(second, "gallery-one.test").status_code == 200
        assert resolver(second).resolve("pics-us.test", "A", tcp=True)[0].address == "127.77.3.10"


# -- management command -------------------------------------------------------------------

_COMMAND = """
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["openhotline.simnet"])
django.setup()
from django.core.management import call_command
import sys
call_command("simnet", "--http-port", "0", "--dns-port", "0", "--notice-delay", "0.2",
             "--data-dir", sys.argv[1])
"""


def _read_lines(stream: io.TextIOBase, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _wait_for(lines: queue.Queue[str], prefix: str, seen: list[str]) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no {prefix!r} line in output: {seen}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_it_runs_the_management_command_until_signalled(
    sig: signal.Signals, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _COMMAND, str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
        seen: list[str] = []
        servers = _wait_for(lines, "OPENHOTLINE_DNS_SERVERS=", seen).split("=", 1)[1]
        allow = _wait_for(lines, "OPENHOTLINE_FETCH_ALLOW_NETS=", seen).split("=", 1)[1]
        assert allow == "127.77.0.0/16"
        bootstrap = _wait_for(lines, "OPENHOTLINE_RDAP_BOOTSTRAP=", seen).split("=", 1)[1]
        mmdb = _wait_for(lines, "OPENHOTLINE_GEOIP_DB=", seen).split("=", 1)[1]
        smtp_host = _wait_for(lines, "OPENHOTLINE_EMAIL_HOST=", seen).split("=", 1)[1]
        smtp_port = int(_wait_for(lines, "OPENHOTLINE_EMAIL_PORT=", seen).split("=", 1)[1])
        assert bootstrap.startswith("http://127.77.0.43:") and bootstrap.endswith("/bootstrap/")
        assert mmdb == str(tmp_path / "simnet.mmdb") and Path(mmdb).is_file()
        with httpx.Client(trust_env=False, timeout=5) as client:
            assert client.get(bootstrap + "dns.json").json()["services"][0][0] == ["test"]
        # The notice-and-takedown loop shows on the console.
        notice = b"Subject: notice\r\n\r\nhttp://gallery-one.test/albums/shapes\r\n"
        with smtplib.SMTP(smtp_host, smtp_port, local_hostname="hq.test", timeout=5) as smtp:
            smtp.sendmail("hotline@hq.test", ["abuse@uk-hosting.test"], notice)
        removed = _wait_for(lines, "notice [abuse@uk-hosting.test] gallery-one.test: removed", seen)
        assert "/albums/shapes" in removed
        assert list((tmp_path / "mail").glob("*.eml"))
        output = "".join(seen)
        for host in default_world().hosts:
            assert re.search(rf"{re.escape(host.name)}\s+{host.address}\s+{host.country}", output)
        address, port = servers.rsplit(":", 1)
        res = dns.resolver.Resolver(configure=False)
        res.nameservers, res.port = [address], int(port)
        assert res.resolve("forum-nl.test", "A")[0].address == "127.77.2.10"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
