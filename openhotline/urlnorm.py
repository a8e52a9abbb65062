"""Normalising reported URLs, so that every spelling of one address is one case.

`normalise_url` applies what a browser would do to the address bar text, then the
RFC 3986 normalisations that do not change what a server sees: scheme and host lower
case, IDNA for international names, IPv4 in any spelling (decimal, octal, hex, short)
written in dotted decimal, default port removed, dot segments removed, percent-encoding
of unreserved characters decoded and of everything else upper-cased, fragment dropped.
"""

import ipaddress
import re
from urllib.parse import urlsplit

import idna

_SCHEMES = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ONION_V3 = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z2-7]{56}\.onion$")
_HEX = frozenset("0123456789abcdefABCDEF")
_HAS_AUTHORITY = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SCHEME_ONLY = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")
# Browsers accept underscores in names (my_site.example.com) that IDNA 2008 refuses.
_ASCII_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


class UrlRejected(ValueError):
    """Why an address cannot be accepted, in words for the person who typed it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def normalise_url(raw: str, *, max_length: int = 2048) -> str:
    text = raw.strip()
    if not text:
        raise UrlRejected("empty", "The address is empty.")
    if _CONTROL.search(text):
        raise UrlRejected("control", "The address contains control characters.")
    if len(text) > max_length:
        raise UrlRejected("too_long", f"The address is longer than {max_length} characters.")
    if not _HAS_AUTHORITY.match(text):
        # What a browser does with "example.com/page" typed in the address bar.
        if _SCHEME_ONLY.match(text):
            raise UrlRejected("scheme", "Only web addresses (http or https) can be reported.")
        text = "http://" + text.lstrip("/")
    # Browsers read "\" as "/" in the address and path, never in the query or fragment.
    cut = min([i for i in (text.find("?"), text.find("#")) if i >= 0], default=len(text))
    text = text[:cut].replace("\\", "/") + text[cut:]
    try:
        parts = urlsplit(text)
    except ValueError:
        raise UrlRejected("malformed", "The address is not well formed.") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UrlRejected("scheme", "Only web addresses (http or https) can be reported.")
    netloc = parts.netloc
    if "@" in netloc:
        raise UrlRejected("credentials", "The address contains a user name or password.")
    host_text, port = _split_port(netloc)
    host = normalise_host(host_text)
    if port is not None and port != _SCHEMES[scheme]:
        host = f"{host}:{port}"
    path = _normalise_escapes(parts.path, _PATH_SAFE) or "/"
    path = _remove_dot_segments(path)
    query = _normalise_escapes(parts.query, _QUERY_SAFE)
    result = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
    if len(result) > max_length:
        raise UrlRejected("too_long", f"The address is longer than {max_length} characters.")
    return result


def _split_port(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise UrlRejected("malformed", "The address is not well formed.")
        host, rest = netloc[: end + 1], netloc[end + 1 :]
    elif ":" in netloc:
        host, _, digits = netloc.rpartition(":")
        rest = ":" + digits
    else:
        host, rest = netloc, ""
    if rest in ("", ":"):
        return host, None
    digits = rest[1:]
    if not rest.startswith(":") or not digits.isascii() or not digits.isdigit():
        raise UrlRejected("port", f"The port {digits!r} is not a valid port number.")
    if int(digits) > 65535:
        raise UrlRejected("port", f"The port {digits!r} is not a valid port number.")
    return host, int(digits)


def normalise_host(text: str) -> str:
    """A host as a browser would send it: lower-case A-labels, or a canonical IP literal."""
    if not text:
        raise UrlRejected("host", "The address has no host name.")
    if text.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1])}]"
        except ValueError:
            raise UrlRejected("host", "The IPv6 address in brackets is not valid.") from None
    host = _percent_decode_host(text).rstrip(".").lower()
    ipv4 = parse_ipv4(host)
    if ipv4 is not None:
        return str(ipv4)
    if host.isascii() and all(_ASCII_LABEL.match(label) for label in host.split(".")):
        pass  # plain ASCII names need no IDNA, and keep their underscores
    else:
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise UrlRejected("host", f"The host name {text!r} is not valid.") from None
    if len(host) > 253:
        raise UrlRejected("host", "The host name is too long.")
    if host.endswith(".onion") and not _ONION_V3.match(host):
        raise UrlRejected("onion", "This .onion address is not a valid version 3 onion address.")
    if "." not in host and host != "localhost":
        raise UrlRejected("host", f"The host name {text!r} has no domain (e.g. example.com).")
    return host


def _percent_decode_host(text: str) -> str:
    if "%" not in text:
        return text
    try:
        return bytes(_unescape_bytes(text)).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        raise UrlRejected("host", f"The host name {text!r} is not valid.") from None


def _unescape_bytes(text: str) -> bytearray:
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ValueError("bad escape")
            out.append(int(pair, 16))
            i += 3
        else:
            out.extend(text[i].encode("utf-8"))
            i += 1
    return out


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG URL standard's IPv4 parser: `0x7f.1`, `2130706433`, `017700000001`…

    Returns None when the host is a name rather than a number; raises when it looks like
    a number but is not a valid address (as browsers refuse such URLs).
    """
    labels = host.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:
        labels.pop()
    if not labels or not _looks_numeric(labels[-1]):
        return None
    if len(labels) > 4:
        raise UrlRejected("host", f"The address {host!r} is not a valid IPv4 address.")
    numbers = []
    for label in labels:
        number = _ipv4_number(label)
        if number is None:
            raise UrlRejected("host", f"The address {host!r} is not a valid IPv4 address.")
        numbers.append(number)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise UrlRejected("host", f"The address {host!r} is not a valid IPv4 address.")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _looks_numeric(label: str) -> bool:
    if label.isascii() and label.isdigit():
        return True
    return label.lower().startswith("0x") and all(c in _HEX for c in label[2:])


def _ipv4_number(label: str) -> int | None:
    if not label:
        return None
    base = 10
    if label.lower().startswith("0x"):
        label, base = label[2:], 16
    elif len(label) > 1 and label.startswith("0"):
        label, base = label[1:], 8
    if label == "":
        return 0
    try:
        return int(label, base)
    except ValueError:
        return None


def _normalise_escapes(component: str, safe: frozenset[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(component):
        char = component[i]
        pair = component[i + 1 : i + 3]
        if char == "%" and len(pair) == 2 and set(pair) <= _HEX:
            decoded = chr(int(pair, 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + pair.upper())
            i += 3
            continue
        if char == "%":
            out.append("%25")
        elif char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    segments = path.split("/")
    output: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def host_of(normalised_url: str) -> str:
    """The host (without port) of a URL returned by `normalise_url`."""
    netloc = urlsplit(normalised_url).netloc
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.rpartition(":")[0] if ":" in netloc else netloc
