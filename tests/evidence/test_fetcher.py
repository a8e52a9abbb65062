"""The safe fetcher against real loopback servers: names, redirects, limits, failures."""

import functools
import gzip
import ipaddress
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from openhotline.evidence.net.fetcher import SafeFetcher
from openhotline.evidence.net.limits import DEFAULT_USER_AGENT, FetchLimits
from openhotline.evidence.net.resolver import ErrorKind
from tests.evidence.netfixtures import (
    Canary,
    FakeDNS,
    Handler,
    HTTPServer,
    Socks5Proxy,
    free_port,
    tls_contexts,
)

ALLOW = [ipaddress.ip_network("127.77.0.0/16")]
FAST = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=5)
MIB = 1024 * 1024
ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


@pytest.fixture
def dns() -> Iterator[FakeDNS]:
    with FakeDNS() as server:
        yield server


def make_fetcher(dns: FakeDNS, limits: FetchLimits = FAST, **kwargs: Any) -> SafeFetcher:
    return SafeFetcher(dns_servers=[dns.endpoint], allow_nets=ALLOW, limits=limits, **kwargs)


def page(body: bytes = b"<html>hello</html>", status: int = 200) -> Any:
    return lambda h: h.reply(status, body, {"Content-Type": "text/html"})


def test_host_header_and_address_are_recorded(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {"/": page()}) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/")
    assert result.ok, result
    assert result.status == 200 and result.body == b"<html>hello</html>"
    assert server.requests[0].headers["host"] == f"gallery.test:{server.port}"
    assert [hop.address for hop in result.hops] == ["127.77.1.1"]
    assert result.addresses == ["127.77.1.1"]
    assert ("content-type", "text/html") in [(k.lower(), v) for k, v in result.headers]
    assert result.elapsed_ms > 0 and result.truncated is False


def test_settings_are_the_defaults(dns: FakeDNS, settings: Any) -> None:
    settings.DNS_SERVERS = [dns.endpoint]
    settings.FETCH_ALLOW_NETS = ALLOW
    settings.FETCH_MAX_PAGE_BYTES = 5
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {"/": page()}) as server:
        result = SafeFetcher().fetch(f"http://gallery.test:{server.port}/")
    assert result.body == b"<html" and result.truncated


def test_redirect_chain_records_each_hop(dns: FakeDNS) -> None:
    dns.add("a.test", "127.77.1.1")
    dns.add("b.test", "127.77.1.2")
    with (
        HTTPServer("127.77.1.2", {"/final": page()}) as b,
        HTTPServer(
            "127.77.1.1", {"/": lambda h: h.redirect(b.url("/landing", "b.test"), 301)}
        ) as a,
    ):
        b.routes["/landing"] = lambda h: h.redirect("/final", 302)
        result = make_fetcher(dns).fetch(f"http://a.test:{a.port}/")
    assert result.ok
    assert [(hop.url, hop.status, hop.address) for hop in result.hops] == [
        (f"http://a.test:{a.port}/", 301, "127.77.1.1"),
        (f"http://b.test:{b.port}/landing", 302, "127.77.1.2"),
        (f"http://b.test:{b.port}/final", 200, "127.77.1.2"),
    ]
    assert result.final_url == f"http://b.test:{b.port}/final"
    assert result.addresses == ["127.77.1.2"]
    # One lookup per name for the whole fetch, redirects included.
    assert dns.count("b.test") == 1
    assert dict(result.hops[0].headers)["Location"] == f"http://b.test:{b.port}/landing"


@pytest.mark.parametrize(
    ("location", "expected_path"),
    [
        ("../up/x", "/a/up/x"),
        ("sibling", "/a/b/sibling"),
        ("/absolute?q=1", "/absolute?q=1"),
        ("?page=2", "/a/b/c?page=2"),
        ("  /spaced  ", "/spaced"),
        ("/a/./b/../../z", "/z"),
    ],
)
def test_relative_redirects(dns: FakeDNS, location: str, expected_path: str) -> None:
    dns.add("gallery.test", "127.77.1.1")

    def start(h: Handler) -> None:
        if h.query:
            page()(h)
        else:
            h.redirect(location)

    routes = {"/a/b/c": start, "*": page()}
    with HTTPServer("127.77.1.1", routes) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/a/b/c")
    assert result.ok, result
    assert result.final_url == f"http://gallery.test:{server.port}{expected_path}"


def test_scheme_relative_redirect_to_another_host(dns: FakeDNS) -> None:
    dns.add("a.test", "127.77.1.1")
    dns.add("b.test", "127.77.1.2")
    with HTTPServer("127.77.1.2", {"/": page(b"b")}) as b:
        go = {"/": lambda h: h.redirect(f"//b.test:{b.port}/")}
        with HTTPServer("127.77.1.1", go) as a:
            result = make_fetcher(dns).fetch(f"http://a.test:{a.port}/")
    assert result.body == b"b" and result.hops[-1].address == "127.77.1.2"


def onwards(h: Handler) -> None:
    number = int(h.path.strip("/r") or 0)
    h.redirect(f"/r{number + 1}")


def test_max_redirects(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    limits = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=5, max_redirects=3)
    with HTTPServer("127.77.1.1", {"*": onwards}) as server:
        result = make_fetcher(dns, limits).fetch(f"http://gallery.test:{server.port}/r0")
    assert result.error_kind is ErrorKind.TOO_MANY_REDIRECTS
    assert result.error == f"more than 3 redirects; stopped before {result.final_url}"
    assert len(result.hops) == 4 and len(server.requests) == 4
    assert result.final_url.endswith("/r4")


def test_max_redirects_from_settings(dns: FakeDNS, settings: Any) -> None:
    settings.FETCH_MAX_REDIRECTS = 2
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {"*": onwards}) as server:
        fetcher = SafeFetcher(dns_servers=[dns.endpoint], allow_nets=ALLOW)
        result = fetcher.fetch(f"http://gallery.test:{server.port}/r0")
    assert result.error_kind is ErrorKind.TOO_MANY_REDIRECTS and len(result.hops) == 3


def test_redirect_loop(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    routes = {"/a": lambda h: h.redirect("/b"), "/b": lambda h: h.redirect("/a")}
    with HTTPServer("127.77.1.1", routes) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/a")
    assert result.error_kind is ErrorKind.REDIRECT_LOOP
    assert result.error == f"redirect loop: http://gallery.test:{server.port}/a was visited before"
    assert len(result.hops) == 2


CHUNK = bytes(range(256)) * 256  # 64 KiB, reused so the server allocates nothing


def endless(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.end_headers()
    while True:
        h.wfile.write(CHUNK)


def measure(call: Any) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        result = call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_endless_body_is_cut_with_bounded_memory(dns: FakeDNS) -> None:
    dns.add("huge.test", "127.77.1.1")
    limit = 2 * MIB + 123
    with HTTPServer("127.77.1.1", {"/": endless}) as server:
        fetcher = make_fetcher(dns)
        result, peak = measure(
            lambda: fetcher.fetch(f"http://huge.test:{server.port}/", max_bytes=limit)
        )
    assert result.truncated and result.status == 200 and result.error is None
    assert len(result.body) == limit
    assert result.body[: len(CHUNK)] == CHUNK
    assert result.truncated_reason == f"the body is larger than {limit} bytes"
    assert peak < 3 * limit, f"peak {peak} bytes"


def test_body_exactly_at_the_limit_is_whole(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {"/": page(b"x" * 100)}) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/", max_bytes=100)
    assert result.body == b"x" * 100 and not result.truncated


@functools.cache
def gzip_bomb() -> bytes:
    """64 MiB of zeros in about 64 KiB: one network read that would decode to 64 MiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    return b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()


def test_gzip_bomb_is_cut_by_decoded_size(dns: FakeDNS) -> None:
    dns.add("bomb.test", "127.77.1.1")
    bomb = gzip_bomb()
    assert len(bomb) < 100 * 1024
    routes = {"/": lambda h: h.reply(200, bomb, {"Content-Encoding": "gzip"})}
    limit = MIB
    with HTTPServer("127.77.1.1", routes) as server:
        fetcher = make_fetcher(dns)
        result, peak = measure(
            lambda: fetcher.fetch(f"http://bomb.test:{server.port}/", max_bytes=limit)
        )
    assert result.truncated and len(result.body) == limit and result.body == bytes(limit)
    assert peak < 3 * limit, f"peak {peak} bytes"


HTML = b"<html><body>" + b"gallery " * 5000 + b"</body></html>"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "payload", "expected"),
    [
        ("gzip", gzip.compress(HTML), HTML),
        ("x-gzip", gzip.compress(HTML), HTML),
        ("deflate", zlib.compress(HTML), HTML),
        ("deflate", _raw_deflate(HTML), HTML),
        ("gzip, gzip", gzip.compress(gzip.compress(HTML)), HTML),
        ("identity, gzip", gzip.compress(HTML), HTML),
        ("gzip", gzip.compress(HTML[:100]) + gzip.compress(HTML[100:]), HTML),  # two members
        ("gzip", gzip.compress(HTML) + b"trailing junk", HTML),
        ("br", b"\x0b\x02\x80hello\x03", b"\x0b\x02\x80hello\x03"),  # unknown: kept raw
    ],
)
def test_encodings(dns: FakeDNS, encoding: str, payload: bytes, expected: bytes) -> None:
    dns.add("gallery.test", "127.77.1.1")
    routes = {"/": lambda h: h.reply(200, payload, {"Content-Encoding": encoding})}
    with HTTPServer("127.77.1.1", routes) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/")
    assert result.ok and result.body == expected


def test_corrupt_gzip_is_a_decoding_error(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    broken = gzip.compress(HTML)[:40] + b"\xff" * 200
    routes = {"/": lambda h: h.reply(200, broken, {"Content-Encoding": "gzip"})}
    with HTTPServer("127.77.1.1", routes) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/")
    assert result.error_kind is ErrorKind.DECODING and result.truncated and result.status == 200


def drip_body(h: Handler) -> None:
    h.send_response(200)
    h.end_headers()
    while not h.stopping.wait(0.05):
        h.wfile.write(b"x")


def drip_headers(h: Handler) -> None:
    h.wfile.write(b"HTTP/1.0 200 OK\r\nX-Drip: ")
    while not h.stopping.wait(0.05):
        h.wfile.write(b"a")


@pytest.mark.parametrize("route", [drip_body, drip_headers])
def test_slow_drip_hits_the_total_timeout(dns: FakeDNS, route: Any) -> None:
    dns.add("slow.test", "127.77.1.1")
    # Each read succeeds well within the read timeout; only the wall clock stops it.
    limits = FetchLimits(connect_timeout=2, read_timeout=5, total_timeout=0.8)
    with HTTPServer("127.77.1.1", {"/": route}) as server:
        started = time.monotonic()
        result = make_fetcher(dns, limits).fetch(f"http://slow.test:{server.port}/")
        took = time.monotonic() - started
    assert result.error_kind is ErrorKind.TOTAL_TIMEOUT
    assert result.error == "gave up: the fetch took longer than 0.8 s in total"
    assert 0.7 < took < 2.0
    if route is drip_body:
        assert result.status == 200 and result.truncated and len(result.body) > 3
    else:
        assert result.status is None and result.hops[0].status is None


def test_read_timeout(dns: FakeDNS) -> None:
    dns.add("mute.test", "127.77.1.1")
    limits = FetchLimits(connect_timeout=2, read_timeout=0.3, total_timeout=5)

    def mute(h: Handler) -> None:
        h.stopping.wait(5)

    with HTTPServer("127.77.1.1", {"/": mute}) as server:
        result = make_fetcher(dns, limits).fetch(f"http://mute.test:{server.port}/")
    assert result.error_kind is ErrorKind.READ_TIMEOUT
    assert result.error == "timed out waiting for the server to send data"


def test_connection_refused(dns: FakeDNS) -> None:
    dns.add("closed.test", "127.77.3.1")
    port = free_port("127.77.3.1")
    result = make_fetcher(dns).fetch(f"http://closed.test:{port}/")
    assert result.error_kind is ErrorKind.CONNECTION_REFUSED
    assert result.error == "the server refused the connection"
    assert result.status is None and [hop.status for hop in result.hops] == [None]


def test_next_checked_address_is_tried(dns: FakeDNS) -> None:
    port = free_port("127.77.7.2")
    dns.add("multi.test", "127.77.7.1", "127.77.7.2")
    with HTTPServer("127.77.7.2", {"/": page()}, port=port):
        result = make_fetcher(dns).fetch(f"http://multi.test:{port}/")
    assert result.ok and result.hops[0].address == "127.77.7.2"


@pytest.mark.parametrize(
    ("setup", "kind", "message"),
    [
        (lambda d: None, ErrorKind.DNS_NXDOMAIN, "gone.test does not exist (NXDOMAIN)"),
        (
            lambda d: d.add("gone.test"),
            ErrorKind.DNS_NO_ADDRESS,
            "gone.test has no address records",
        ),
        (
            lambda d: d.modes.update({"gone.test": "servfail"}),
            ErrorKind.DNS_FAILURE,
            "the DNS servers failed to answer for gone.test (SERVFAIL or REFUSED)",
        ),
    ],
)
def test_dns_failures_are_told_apart(
    dns: FakeDNS, setup: Any, kind: ErrorKind, message: str
) -> None:
    setup(dns)
    result = make_fetcher(dns).fetch("http://gone.test/")
    assert result.error_kind is kind and result.error == message
    assert result.refused is None and result.hops == [] and result.status is None


def test_not_found_is_a_status_not_an_error(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {}) as server:
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/removed")
    assert result.status == 404 and result.error is None and result.body == b"not found"


def test_request_headers(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")
    with HTTPServer("127.77.1.1", {"*": page()}) as server:
        fetcher = make_fetcher(dns)
        fetcher.fetch(
            f"http://gallery.test:{server.port}/a",
            user_agent="Mozilla/5.0 (Android 14; Mobile) TestPhone",
            referrer="https://forum.test/thread/9",
            accept_language="nl-BE,nl;q=0.9",
        )
        fetcher.fetch(f"http://gallery.test:{server.port}/b", user_agent="")
    given, default = (seen.headers for seen in server.requests)
    assert given["user-agent"] == "Mozilla/5.0 (Android 14; Mobile) TestPhone"
    assert given["referer"] == "https://forum.test/thread/9"
    assert given["accept-language"] == "nl-BE,nl;q=0.9"
    assert default["user-agent"] == DEFAULT_USER_AGENT
    assert default["accept-language"] == "en"
    assert default["accept-encoding"] == "gzip, deflate"
    assert "referer" not in default


def test_referrer_is_kept_across_redirects_and_cookies_follow(dns: FakeDNS) -> None:
    dns.add("gallery.test", "127.77.1.1")

    def gate(h: Handler) -> None:
        h.reply(302, b"", {"Location": "/inside", "Set-Cookie": "age=ok; Path=/"})

    with HTTPServer("127.77.1.1", {"/": gate, "/inside": page()}) as server:
        make_fetcher(dns).fetch(
            f"http://gallery.test:{server.port}/", referrer="https://forum.test/"
        )
    assert server.requests[1].headers["referer"] == "https://forum.test/"
    assert server.requests[1].headers["cookie"] == "age=ok"


def test_onion_needs_a_proxy(dns: FakeDNS) -> None:
    result = make_fetcher(dns).fetch(f"http://{ONION}/gallery")
    assert result.refused == f"refused: {ONION}: onion address needs a proxy (such as Tor)"
    assert dns.queries == []


def test_onion_through_an_http_proxy(dns: FakeDNS) -> None:
    with HTTPServer("127.77.4.1", {"*": page(b"proxied")}) as proxy:
        result = make_fetcher(dns).fetch(f"http://{ONION}/gallery", proxy=proxy.url(""))
    assert result.ok and result.body == b"proxied"
    assert proxy.requests[0].path == f"http://{ONION}/gallery"
    assert result.hops[0].address is None  # the proxy chose the address, not us
    assert dns.queries == []


def test_onion_through_socks5(dns: FakeDNS) -> None:
    with Socks5Proxy() as proxy:
        result = make_fetcher(dns).fetch(f"http://{ONION}/gallery", proxy=proxy.url)
    assert result.ok, result
    assert proxy.targets == [(ONION, 80)]  # the name went to the proxy: no local lookup
    assert result.body == f"hello from {ONION} via socks".encode()
    assert dns.queries == []


def test_proxy_does_not_excuse_forbidden_literals(dns: FakeDNS) -> None:
    with HTTPServer("127.77.4.1", {"*": page()}) as proxy:
        result = make_fetcher(dns).fetch("http://10.0.0.5/", proxy=proxy.url(""))
        assert result.refused == "refused: 10.0.0.5 is a private address"
        assert proxy.requests == []


def test_unreachable_proxy_is_a_proxy_error_not_a_site_error(dns: FakeDNS) -> None:
    port = free_port("127.77.4.2")
    result = make_fetcher(dns).fetch(f"http://{ONION}/", proxy=f"socks5://127.77.4.2:{port}")
    assert result.error_kind is ErrorKind.PROXY
    assert (result.error or "").startswith("the proxy failed: could not connect to the proxy")


def test_unusable_proxy_setting(dns: FakeDNS) -> None:
    result = make_fetcher(dns).fetch(f"http://{ONION}/", proxy="ftp://user:secret@127.77.4.3/")
    assert result.error_kind is ErrorKind.PROXY
    assert result.error == "the proxy is not an http, https, socks5 or socks5h URL"


def test_environment_proxies_are_ignored(dns: FakeDNS, monkeypatch: pytest.MonkeyPatch) -> None:
    dns.add("gallery.test", "127.77.1.1")
    with Canary("127.0.0.3") as canary, HTTPServer("127.77.1.1", {"/": page()}) as server:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.3:{canary.port}")
        result = make_fetcher(dns).fetch(f"http://gallery.test:{server.port}/")
    assert result.ok and canary.hits == 0


def test_malformed_urls_are_refused(dns: FakeDNS) -> None:
    assert make_fetcher(dns).fetch("ftp://gallery.test/x").refused == (
        "refused: Only web addresses (http or https) can be reported."
    )
    assert make_fetcher(dns).fetch("http://user:pw@gallery.test/").refused == (
        "refused: The address contains a user name or password."
    )


def test_tls_uses_the_name_for_sni_and_certificate(dns: FakeDNS) -> None:
    name = "secure.gallery.test"
    server_context, client_context, sni = tls_contexts(name)
    dns.add(name, "127.77.6.1")
    with HTTPServer("127.77.6.1", {"/": page(b"secret")}, tls=server_context) as server:
        result = make_fetcher(dns, verify=client_context).fetch(f"https://{name}:{server.port}/")
        untrusted = make_fetcher(dns).fetch(f"https://{name}:{server.port}/")
    assert result.ok and result.body == b"secret", result
    assert sni[0] == name
    assert server.requests[0].headers["host"] == f"{name}:{server.port}"
    assert result.hops[0].address == "127.77.6.1"
    assert untrusted.error_kind is ErrorKind.TLS
