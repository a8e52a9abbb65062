"""Every spelling of one address normalises to one string; bad addresses say why."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openhotline.urlnorm import UrlRejected, host_of, normalise_url

ONION = "a" * 56 + ".onion"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("HTTP://Example.TEST:80/a#x", "http://example.test/a"),
        ("http://example.test/a", "http://example.test/a"),
        ("https://example.test:443", "https://example.test/"),
        ("https://example.test:8443/x", "https://example.test:8443/x"),
        ("example.test/page", "http://example.test/page"),
        ("  http://example.test/a b  ", "http://example.test/a%20b"),
        ("http://example.test/%7euser/%2f/%e2%82%ac", "http://example.test/~user/%2F/%E2%82%AC"),
        ("http://example.test/a/./b/../c", "http://example.test/a/c"),
        ("http://example.test/€?q=ü", "http://example.test/%E2%82%AC?q=%C3%BC"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("http://example.test./x", "http://example.test/x"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://[0:0::1]:8080/", "http://[::1]:8080/"),
        (f"http://{ONION.upper()}/x", f"http://{ONION}/x"),
        ("http://example.test/?", "http://example.test/"),
        ("http://example.test/a?b=%41", "http://example.test/a?b=A"),
    ],
)
def test_it_normalises(typed: str, normalised: str) -> None:
    assert normalise_url(typed) == normalised


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("ftp://example.test/file", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("mailto:someone@example.test", "scheme"),
        ("http://user:pw@example.test/", "credentials"),
        ("http://example.test@evil.test/", "credentials"),
        ("http://example.test:99999/", "port"),
        ("http://example.test:8o/", "port"),
        ("http://exa mple.test/", "host"),
        ("http:///path-only", "host"),
        ("http://256.1.1.1/", "host"),
        ("http://1.2.3.4.5/", "host"),
        ("http://abc.onion/", "onion"),
        ("http://[::g]/", "malformed"),
        ("http://localhost\x00.test/", "control"),
        ("http://example.test/\r\nSet-Cookie: x", "control"),
        ("http://example.test/" + "a" * 3000, "too_long"),
        ("http://nodot/", "host"),
    ],
)
def test_it_rejects_with_a_reason(typed: str, code: str) -> None:
    with pytest.raises(UrlRejected) as rejected:
        normalise_url(typed)
    assert rejected.value.code == code
    assert rejected.value.message


def test_it_measures_the_normalised_length_too() -> None:
    # 700 characters that each become 9 when percent-encoded.
    with pytest.raises(UrlRejected, match="longer than 2048"):
        normalise_url("http://example.test/" + "€" * 700)


def test_host_of_strips_the_port() -> None:
    assert host_of("http://example.test:8080/a") == "example.test"
    assert host_of("http://[::1]:8080/") == "[::1]"
    assert host_of("https://example.test/") == "example.test"


# --- Properties ---------------------------------------------------------------------------

labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
hosts = st.builds(lambda parts: ".".join(parts), st.lists(labels, min_size=2, max_size=4))
path_chars = st.characters(
    codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"], exclude_characters="#?\\"
)
paths = st.lists(st.text(path_chars, max_size=12), max_size=4).map(lambda s: "/" + "/".join(s))
queries = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"],
                                exclude_characters="#"), max_size=20)  # fmt: skip


@settings(max_examples=300)
@given(host=hosts, path=paths, query=queries, scheme=st.sampled_from(["http", "https"]))
def test_normalising_is_idempotent(host: str, path: str, query: str, scheme: str) -> None:
    url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
    try:
        once = normalise_url(url)
    except UrlRejected:
        return
    assert normalise_url(once) == once
    assert once.isascii()


@settings(max_examples=300)
@given(host=hosts, path=paths, fragment=st.text(path_chars, max_size=10))
def test_spellings_of_one_address_meet(host: str, path: str, fragment: str) -> None:
    # Like a browser, the normaliser trims the ends of what was typed; keep them inside.
    assume(path == path.rstrip())
    try:
        plain = normalise_url(f"http://{host}{path}")
    except UrlRejected:
        return
    shouting = f"HTTP://{host.upper()}:80{path}#{fragment}"
    assert normalise_url(shouting) == plain


@settings(max_examples=500)
@given(st.text(max_size=300))
def test_any_text_is_either_normalised_or_rejected_with_a_reason(text: str) -> None:
    try:
        result = normalise_url(text)
    except UrlRejected as rejection:
        assert rejection.code and rejection.message
    else:
        assert result.startswith(("http://", "https://")) and len(result) <= 2048


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        (
            "example.test/r?to=https://elsewhere.test/",
            "http://example.test/r?to=https://elsewhere.test/",
        ),
        ("http://my_site.example.test/a", "http://my_site.example.test/a"),
        ("http://example.test\\a\\b?q=a\\b", "http://example.test/a/b?q=a%5Cb"),
        ("localhost:8080/x", "http://localhost:8080/x"),
    ],
)
def test_it_reads_addresses_as_a_browser_does(typed: str, normalised: str) -> None:
    assert normalise_url(typed) == normalised


def test_a_backslash_in_the_query_is_not_a_slash() -> None:
    assert normalise_url("http://x.test/?q=a\\b") != normalise_url("http://x.test/?q=a/b")
