"""Hand-entered feed entries: each feed's key is canonical, every published address test
vector is accepted, any one-character corruption fails its checksum, and hostile text is
refused or stored verbatim — never "cleaned" into something else."""

import hashlib

import pytest

from openhotline.feeds.currency_addresses import keccak256, monero_base58_decode, sponge256
from openhotline.feeds.entries import EntryError, parse
from openhotline.urlnorm import normalise_url

KEYWORDS = "keyword-list"
DOMAINS = "domain-alerts"
VC = "vc-alerts"
NPI = "npi-url-list"


def refused(feed: str, fields: dict[str, str]) -> EntryError:
    with pytest.raises(EntryError) as caught:
        parse(feed, fields)
    return caught.value


def address_error(currency: str, address: str) -> str:
    error = refused(VC, {"currency": currency, "address": address})
    assert error.field == "address", error
    return error.message


# --- Keccak-256 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "digest"),
    [
        (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        (
            b"The quick brown fox jumps over the lazy dog",
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15",
        ),
    ],
)
def test_keccak256_gives_the_known_digests(message: bytes, digest: str) -> None:
    assert keccak256(message).hex() == digest


def test_the_same_sponge_with_sha3_padding_is_hashlibs_sha3_256_over_many_blocks() -> None:
    """SHA3-256 is Keccak-256 with another padding byte, so the permutation and the
    absorbing of several blocks (the rate is 136 bytes) are checked against hashlib."""
    data = bytes(range(256)) * 2
    for size in [*range(0, 140), 271, 272, 273, 408, 512]:
        assert sponge256(data[:size], 0x06) == hashlib.sha3_256(data[:size]).digest()
    assert keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()


# --- Keyword List -----------------------------------------------------------------------


def test_a_keyword_is_keyed_by_its_folded_form_and_keeps_what_was_typed() -> None:
    # Fullwidth letters (U+FF23…) and an ideographic space among the plain ones.
    typed = "  \uff23\uff48\uff45\uff45\uff53\uff45 \u3000  PIZZA "
    key, data = parse(KEYWORDS, {"term": typed, "language": "EN"})
    assert key == "cheese pizza"
    assert data == {"term": typed.strip(), "language": "en", "kind": "phrase", "note": ""}
    assert parse(KEYWORDS, {"term": "cheese pizza"})[0] == key


def test_case_folding_is_unicodes_not_just_lower_case() -> None:
    assert parse(KEYWORDS, {"term": "STRASSE"})[0] == parse(KEYWORDS, {"term": "Straße"})[0]
    assert parse(KEYWORDS, {"term": "ﬁle"})[0] == "file"  # the ligature unfolds


def test_one_word_is_a_word_and_emoji_count_as_terms() -> None:
    assert parse(KEYWORDS, {"term": "hurtcore"})[1]["kind"] == "word"
    key, data = parse(KEYWORDS, {"term": "🍕"})
    assert key == "🍕" and data["kind"] == "word"


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"term": ""}, "term", "required"),
        ({"term": "   "}, "term", "required"),
        ({"term": "x" * 201}, "term", "longer than 200"),
        ({"term": "!!! ... ?"}, "term", "only punctuation"),
        ({"term": "¿¡—«»"}, "term", "only punctuation"),
        ({"term": "\u200b\u200d"}, "term", "invisible characters"),
        ({"term": "bad\x00word"}, "term", "control"),
        ({"term": "bad\x1b[31mword"}, "term", "control"),
        ({"term": "tab\tseparated"}, "term", "control"),
        ({"term": "evil\u202egnp.exe"}, "term", "direction"),
        ({"term": "two\u2028lines"}, "term", "control"),
        ({"term": "word", "language": "english"}, "language", "ISO 639-1"),
        ({"term": "word", "language": "xx"}, "language", "ISO 639-1"),
        ({"term": "word", "note": "n" * 501}, "note", "longer than 500"),
        ({"term": "word", "note": "line\nbreak"}, "note", "control"),
    ],
)
def test_bad_keywords_are_refused_on_their_field(fields: dict, field: str, says: str) -> None:
    error = refused(KEYWORDS, fields)
    assert error.field == field and says in error.message


def test_a_huge_term_is_refused_by_its_length_before_any_work() -> None:
    error = refused(KEYWORDS, {"term": "ﷺ" * 1_000_000})
    assert error.field == "term" and "longer than 200 characters (1000000)" in error.message


def test_a_term_that_grows_past_the_limit_when_folded_is_refused() -> None:
    # U+FDFA unfolds into 18 characters under NFKC.
    assert refused(KEYWORDS, {"term": "ﷺ" * 20}).field == "term"


def test_injection_text_is_stored_verbatim_for_templates_to_escape() -> None:
    html = "<script>alert('x')</script> & \"quotes\""
    key, data = parse(KEYWORDS, {"term": html, "note": "'; DROP TABLE feeds_feeditem; --"})
    assert data["term"] == html and key == html.casefold()
    assert data["note"] == "'; DROP TABLE feeds_feeditem; --"


# --- Domain Alerts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Example.COM.", "example.com"),
        ("  hop-42.example.net  ", "hop-42.example.net"),
        ("https://Bad.Example:8443/gallery?id=1#top", "bad.example"),
        ("bad.example/path/only", "bad.example"),
        (
            "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
            "example.com",
        ),  # fullwidth letters are mapped (UTS 46)
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_domains_are_keyed_by_their_lower_case_a_label_form(typed: str, key: str) -> None:
    found, data = parse(DOMAINS, {"domain": typed, "reason": "domain-hopping"})
    assert found == key and data["domain"] == key and data["reason"] == "domain-hopping"


def test_international_names_keep_their_unicode_form_beside_the_a_label() -> None:
    key, data = parse(DOMAINS, {"domain": "BÜCHER.example", "reason": "other", "note": "n"})
    assert key == "xn--bcher-kva.example"
    assert data == {"domain": key, "unicode": "bücher.example", "reason": "other", "note": "n"}
    assert "unicode" not in parse(DOMAINS, {"domain": "example.com", "reason": "other"})[1]


def test_a_homograph_is_its_own_a_label_never_the_name_it_imitates() -> None:
    cyrillic_a = "p\u0430ypal.com"
    key, data = parse(DOMAINS, {"domain": cyrillic_a, "reason": "disguised"})
    assert key == "xn--pypal-4ve.com" and data["unicode"] == cyrillic_a
    assert key != parse(DOMAINS, {"domain": "paypal.com", "reason": "disguised"})[0]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("192.0.2.7", "IP address"),
        ("0xc0.0.2.7", "IP address"),  # any IPv4 spelling
        ("3221225991", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("http://[2001:db8::1]:8080/x", "IP address"),
        ("a" * 56 + ".onion", "members cannot block them; they go to police"),
        ("www." + "b" * 56 + ".onion", "members cannot block them; they go to police"),
        ("short.onion", "members cannot block them; they go to police"),
        ("localhost", "with a dot"),
        ("intranet", "with a dot"),
        ("a" * 64 + ".example", "longer than 63"),
        (".".join(["a" * 60] * 5), "longer than 253"),
        ("my_site.example.com", "characters a domain name cannot have"),
        ("-lead.example.com", "characters a domain name cannot have"),
        ("trail-.example.com", "characters a domain name cannot have"),
        ("*.example.com", "characters a domain name cannot have"),
        ("<script>.example", "characters a domain name cannot have"),
        ("xn--zz.example", "not a valid international domain name"),
        ("ftp://files.example.com/", "http or https"),
        ("https://user:pass@bad.example/", "user name or password"),
        ("", "required"),
        ("bad\x00.example", "control"),
    ],
)
def test_what_is_not_a_blockable_domain_is_refused_with_the_reason(typed: str, says: str) -> None:
    error = refused(DOMAINS, {"domain": typed, "reason": "other"})
    assert error.field == "domain" and says in error.message, error.message


@pytest.mark.parametrize("reason", ["", "spam", "OTHER"])
def test_a_domain_needs_one_of_the_known_reasons(reason: str) -> None:
    error = refused(DOMAINS, {"domain": "example.com", "reason": reason})
    assert error.field == "reason" and "domain-hopping" in error.message


def test_a_huge_pasted_address_is_refused_by_its_length() -> None:
    error = refused(DOMAINS, {"domain": "http://example.com/" + "a" * 3_000_000, "reason": "other"})
    assert error.field == "domain" and "longer than 2048" in error.message


# --- Virtual Currency Alerts: Bitcoin ---------------------------------------------------

# Base58Check examples (the genesis block's address, and the Bitcoin wiki's P2PKH and P2SH).
BITCOIN_BASE58 = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
]
# BIP-350's valid main-network segwit addresses (v0 in bech32, v1+ in bech32m).
BITCOIN_SEGWIT = [
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
    "BC1SW50QGDZ25J",
    "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
]


@pytest.mark.parametrize("address", BITCOIN_BASE58)
def test_bitcoin_base58check_addresses_are_kept_as_typed(address: str) -> None:
    key, data = parse(VC, {"currency": "BTC", "address": address, "note": "seen on a paywall"})
    assert key == f"BTC:{address}"
    assert data == {"currency": "BTC", "address": address, "note": "seen on a paywall"}


@pytest.mark.parametrize("address", BITCOIN_SEGWIT)
def test_bitcoin_segwit_addresses_from_bip_350_are_keyed_in_lower_case(address: str) -> None:
    key, data = parse(VC, {"currency": "btc", "address": address})
    assert key == f"BTC:{address.lower()}" and data["address"] == address.lower()


@pytest.mark.parametrize(
    ("address", "says"),
    [
        # BIP-350's invalid main-network addresses, with the reason the BIP gives.
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "bech32m checksum"),
        ("BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "bech32m checksum"),
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "bech32 checksum"),
        ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "not a character"),
        ("BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "Witness version"),
        ("bc1pw5dgrnzv", "2 to 40 bytes"),
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
            "2 to 40 bytes",
        ),
        ("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "20 or 32 bytes"),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "bits left over"),
        ("bc1gmk9yu", "too short"),
        (
            "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
            "starts with 1, 3 or bc1",
        ),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
            "starts with 1, 3 or bc1",
        ),
        # BIP-173's valid v1+ addresses carry bech32, which BIP-350 no longer accepts.
        ("bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", "bech32m checksum"),
        ("BC1SW50QA3JX3S", "bech32m checksum"),
        # BIP-173's invalid ones.
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum does not match"),
        ("bc1rw5uspcuh", "bech32m checksum"),  # and too short a program
        ("bc1qW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "mixes capitals"),
        # Base58Check: a test-network address, and other currencies' addresses.
        ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "starts with 1, 3 or bc1"),
        ("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", "starts with 1, 3 or bc1"),
        ("LV7LV7Z4bWDEjYkfx9dQo6k6RjGbXsg6hS", "starts with 1, 3 or bc1"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN0", "not a Base58 character"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN", "checksum does not match"),
        ("1" * 40, "26 to 35 characters"),
    ],
)
def test_bad_bitcoin_addresses_say_what_is_wrong(address: str, says: str) -> None:
    assert says in address_error("BTC", address)


def single_substitutions(text: str, alphabet: str, start: int = 0) -> list[str]:
    """`text` with one character replaced by the next one of `alphabet`, at each position
    from `start` (case kept, so only the substitution is tested)."""
    variants = []
    for i in range(start, len(text)):
        char = text[i]
        lower = char.lower() if alphabet.islower() else char
        if lower not in alphabet:
            continue
        other = alphabet[(alphabet.index(lower) + 1) % len(alphabet)]
        other = other.upper() if char.isupper() and alphabet.islower() else other
        variants.append(text[:i] + other + text[i + 1 :])
    return variants


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


@pytest.mark.parametrize("address", BITCOIN_BASE58 + BITCOIN_SEGWIT)
def test_any_one_character_changed_in_a_bitcoin_address_fails(address: str) -> None:
    alphabet, start = (B32, 4) if address.lower().startswith("bc1") else (B58, 0)
    variants = single_substitutions(address, alphabet, start)
    assert len(variants) >= len(address) - start - 1
    for variant in variants:
        address_error("BTC", variant)


# --- Litecoin ---------------------------------------------------------------------------

LITECOIN = [
    "LV7LV7Z4bWDEjYkfx9dQo6k6RjGbXsg6hS",  # P2PKH (0x30)
    "LTVdcw8fdTTK4TcebTZ4jiiCbvTXaRxZNh",
    "M8eTgzhoFTErAjkGa6cyBomcHfxAprbDgD",  # P2SH (0x32)
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # old-style P2SH (0x05), still valid on Litecoin
    "ltc1qytnqzjknvv03jwfgrsmzt0ycmwqgl0asjnaxwu",
    "ltc1qx88q7zjd74lxwgkjmmwlqv5pd3vujuehexfttt",
]


@pytest.mark.parametrize("address", LITECOIN)
def test_litecoin_addresses_are_accepted(address: str) -> None:
    assert parse(VC, {"currency": "LTC", "address": address})[0] == f"LTC:{address}"


@pytest.mark.parametrize("address", LITECOIN)
def test_any_one_character_changed_in_a_litecoin_address_fails(address: str) -> None:
    alphabet, start = (B32, 5) if address.startswith("ltc1") else (B58, 0)
    for variant in single_substitutions(address, alphabet, start):
        address_error("LTC", variant)


def test_bitcoin_addresses_are_not_litecoin_ones() -> None:
    assert "starts with L, M, 3 or ltc1" in address_error("LTC", BITCOIN_BASE58[1])
    assert "starts with L, M, 3 or ltc1" in address_error("LTC", BITCOIN_SEGWIT[0])


# --- Ethereum ---------------------------------------------------------------------------

# EIP-55's examples: mixed case (checksummed), and all caps / all lower (no letters mixed).
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]


@pytest.mark.parametrize("address", EIP55)
def test_ethereum_keys_are_lower_case_and_the_data_keeps_the_checksummed_form(
    address: str,
) -> None:
    key, data = parse(VC, {"currency": "ETH", "address": address})
    assert key == f"ETH:{address.lower()}" and data["address"] == address
    # Typed in lower case, it is the same entry, shown checksummed.
    assert parse(VC, {"currency": "ETH", "address": address.lower()}) == (key, data)


@pytest.mark.parametrize("address", EIP55[:4])
def test_flipping_the_case_of_any_letter_breaks_the_eip55_checksum(address: str) -> None:
    flips = [
        address[:i] + address[i].swapcase() + address[i + 1 :]
        for i in range(2, len(address))
        if address[i].isalpha()
    ]
    assert len(flips) > 10
    for flipped in flips:
        assert "EIP-55 checksum" in address_error("ETH", flipped)


@pytest.mark.parametrize(
    "address",
    [
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
        "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
    ],
)
def test_ethereum_addresses_are_0x_and_40_hex_digits(address: str) -> None:
    assert "40 hexadecimal digits" in address_error("ETH", address)


# --- Monero -----------------------------------------------------------------------------

MONERO = [
    # The standard and integrated examples of the Monero documentation.
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge",
    "4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK",
    # The Monero General Fund's published donation addresses (a standard, a subaddress).
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H",
]


@pytest.mark.parametrize("address", MONERO)
def test_monero_addresses_are_accepted(address: str) -> None:
    assert parse(VC, {"currency": "XMR", "address": address})[0] == f"XMR:{address}"


def test_monero_base58_decodes_the_documented_bytes() -> None:
    raw = monero_base58_decode(MONERO[0])
    assert raw.hex() == (
        "12eda9fe8dfcdd25d5430ea64229d04f6b41b2e5a1587c29cd499a63eb79d117113076a02b73d130fb9"
        "04c9e91075fcd16f735c6850dfadb125eb826d96a113f09a57120a3"
    )


@pytest.mark.parametrize("address", MONERO)
def test_any_one_character_changed_in_a_monero_address_fails(address: str) -> None:
    for variant in single_substitutions(address, B58):
        address_error("XMR", variant)


def monero_base58_encode(raw: bytes) -> str:
    sizes = {1: 2, 2: 3, 3: 5, 4: 6, 5: 7, 6: 9, 7: 10, 8: 11}
    out = ""
    for start in range(0, len(raw), 8):
        block = raw[start : start + 8]
        number, chars = int.from_bytes(block, "big"), ""
        for _ in range(sizes[len(block)]):
            number, digit = divmod(number, 58)
            chars = B58[digit] + chars
        out += chars
    return out


def test_a_test_network_monero_address_is_refused_though_its_checksum_holds() -> None:
    body = bytes([53]) + monero_base58_decode(MONERO[0])[1:65]  # testnet's byte
    testnet = monero_base58_encode(body + keccak256(body)[:4])
    assert monero_base58_encode(monero_base58_decode(MONERO[0])) == MONERO[0]
    assert len(testnet) == 95 and "main-network" in address_error("XMR", testnet)


def test_monero_addresses_have_95_or_106_characters() -> None:
    assert "not 94" in address_error("XMR", MONERO[0][:-1])
    assert "not 34" in address_error("XMR", BITCOIN_BASE58[0])


# --- Bitcoin Cash -----------------------------------------------------------------------

# The CashAddr specification's translation examples and larger test vectors.
CASHADDR = [
    "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    "bitcoincash:qr95sy3j9xwd2ap32xkykttr4cvcu7as4y0qverfuy",
    "bitcoincash:qqq3728yw0y47sqn6l2na30mcw6zm78dzqre909m2r",
    "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq",
    "bitcoincash:pr95sy3j9xwd2ap32xkykttr4cvcu7as4yc93ky28e",
    "bitcoincash:pqq3728yw0y47sqn6l2na30mcw6zm78dzq5ucqzc37",
    "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2",
    "bitcoincash:q9adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2ws4mr9g0",
    "bitcoincash:qvch8mmxy0rtfrlarg7ucrxxfzds5pamg73h7370aa87d80gyhqxq5nlegake",
    "bitcoincash:qlg0x333p4238k0qrc5ej7rzfw5g8e4a4r6vvzyrcy8j3s5k0en7calvclhw46hudk5flttj6ydvjc0pv3nchp52amk97tqa5zygg96mtky5sv5w",
]


@pytest.mark.parametrize("address", CASHADDR)
def test_cashaddr_vectors_are_accepted_with_or_without_the_prefix(address: str) -> None:
    key = f"BCH:{address}"
    assert parse(VC, {"currency": "BCH", "address": address})[0] == key
    payload = address.removeprefix("bitcoincash:")
    assert parse(VC, {"currency": "BCH", "address": payload})[0] == key
    assert parse(VC, {"currency": "BCH", "address": address.upper()})[0] == key


@pytest.mark.parametrize("address", CASHADDR[:6])
def test_any_one_character_changed_in_a_cashaddr_fails(address: str) -> None:
    for variant in single_substitutions(address, B32, len("bitcoincash:")):
        assert "checksum" in address_error("BCH", variant)


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t", "starts with bitcoincash:"),
        ("pref:pr6m7j9njldwwzlg9v7v53unlr4jkmx6ey65nvtks5", "starts with bitcoincash:"),
        ("bitcoincash:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A", "mixes capitals"),
        ("1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "legacy address"),
        ("bitcoincash:qpzry9x8gf2tvdw0s3jn54khce6mua7lcw20ayyn", "wrong length"),
    ],
)
def test_bad_bitcoin_cash_addresses_say_what_is_wrong(address: str, says: str) -> None:
    assert says in address_error("BCH", address)


# --- Currencies -------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["DOGE", "", "<b>x</b>"])
def test_an_unknown_currency_is_refused_naming_the_known_ones(currency: str) -> None:
    error = refused(VC, {"currency": currency, "address": "x"})
    assert error.field == "currency"
    assert "BTC, BCH, ETH, LTC, XMR" in error.message


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("", "required"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 extra", "spaces"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\x00", "control"),
        ("A" * 100_000, "longer than 200"),
        ("' OR 1=1 --", "spaces"),
        ("<script>", "starts with 1, 3 or bc1"),
    ],
)
def test_hostile_addresses_are_refused(address: str, says: str) -> None:
    assert says in address_error("BTC", address)


# --- Non-Photographic Imagery URL List --------------------------------------------------


def test_npi_urls_are_keyed_by_the_projects_url_normalisation() -> None:
    typed = "HTTP://Gallery.EXAMPLE:80/a/../drawings/%7efile.png#top"
    key, data = parse(NPI, {"url": typed, "note": "drawn; <i>not</i> photographic"})
    assert key == normalise_url(typed) == "http://gallery.example/drawings/~file.png"
    assert data == {"url": key, "note": "drawn; <i>not</i> photographic"}


def test_injection_text_in_a_url_is_percent_encoded_by_the_normaliser() -> None:
    key, _ = parse(NPI, {"url": "https://example.com/<script>alert(1)</script>"})
    assert "<" not in key and "%3Cscript%3E" in key


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("ftp://example.com/image.png", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("data:image/png;base64,AAAA", "http or https"),
        ("https://user:secret@example.com/image.png", "user name or password"),
        ("https://example.com/" + "a" * 2048, "longer than 2048"),
        ("http://" + "c" * 56 + ".onion/image.png", "members cannot block them"),
        ("https://example.com/a\x07b", "control"),
        ("", "required"),
    ],
)
def test_urls_that_cannot_be_listed_are_refused(typed: str, says: str) -> None:
    error = refused(NPI, {"url": typed})
    assert error.field == "url" and says in error.message


def test_only_hand_maintained_feeds_take_entries() -> None:
    assert refused("url-list", {"url": "http://example.com/"}).field == "feed"
