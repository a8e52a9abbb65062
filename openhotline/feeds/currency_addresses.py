"""Cryptocurrency addresses checked by their own checksums and put in canonical form.

`ADDRESS_CHECKS[currency](text)` gives (the address as shown, as keyed) or raises
`AddressError` saying in words what is wrong. The checksums are computed here from the
published specifications (Base58Check, BIP-173/BIP-350 bech32 and bech32m, CashAddr,
EIP-55 and Monero's block Base58, both with Keccak-256, which `hashlib` lacks: its
sha3_256 is the later, differently padded SHA-3). The Virtual Currency Alerts use it now,
the crypto unit's tracing later.
"""

import hashlib
import re
from collections.abc import Callable


class AddressError(ValueError):
    """Why a cryptocurrency address is not valid, in words."""


def bitcoin_address(text: str) -> tuple[str, str]:
    """(the address as shown, as keyed) for a main-network Bitcoin address."""
    if text[:3].lower() == "bc1":
        address = segwit_address("bc", text)
        return address, address
    if text[:1] not in ("1", "3"):
        raise AddressError("A main-network Bitcoin address starts with 1, 3 or bc1.")
    return base58check_address(text, {0x00: "P2PKH", 0x05: "P2SH"}, "Bitcoin"), text


def litecoin_address(text: str) -> tuple[str, str]:
    if text[:4].lower() == "ltc1":
        address = segwit_address("ltc", text)
        return address, address
    if text[:1] not in ("L", "M", "3"):
        raise AddressError("A main-network Litecoin address starts with L, M, 3 or ltc1.")
    versions = {0x30: "P2PKH", 0x32: "P2SH", 0x05: "P2SH (old style)"}
    return base58check_address(text, versions, "Litecoin"), text


def ethereum_address(text: str) -> tuple[str, str]:
    """(the EIP-55 checksummed form, the lower-case form). A mixed-case address carries
    an EIP-55 checksum, which must hold; all-lower or all-upper carries none."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        raise AddressError("An Ethereum address is 0x followed by 40 hexadecimal digits.")
    digits = text[2:]
    checksummed = eip55(digits)
    if digits not in (digits.lower(), digits.upper()) and "0x" + digits != checksummed:
        raise AddressError("The EIP-55 checksum (the mix of capitals) does not match.")
    return checksummed, "0x" + digits.lower()


def eip55(hex_digits: str) -> str:
    lower = hex_digits.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest, strict=False)
    )


def bitcoin_cash_address(text: str) -> tuple[str, str]:
    if text[:1] in ("1", "3") and len(text) <= 35:
        raise AddressError("This is a legacy address: give its CashAddr form (bitcoincash:…).")
    address = cashaddr_address(text)
    return address, address


# Main network, by address length: standard 18 and subaddress 42; integrated 19.
_MONERO_NETWORK_BYTES = {95: {18: "standard", 42: "subaddress"}, 106: {19: "integrated"}}


def monero_address(text: str) -> tuple[str, str]:
    kinds = _MONERO_NETWORK_BYTES.get(len(text))
    if kinds is None:
        raise AddressError(
            f"A Monero address is 95 characters (106 for an integrated address), not {len(text)}."
        )
    raw = monero_base58_decode(text)
    body, checksum = raw[:-4], raw[-4:]
    if keccak256(body)[:4] != checksum:
        raise AddressError("The checksum does not match: a character is wrong or missing.")
    if raw[0] not in kinds:
        raise AddressError("This is not a main-network Monero address (a test network's?).")
    return text, text


ADDRESS_CHECKS: dict[str, Callable[[str], tuple[str, str]]] = {
    "BTC": bitcoin_address,
    "BCH": bitcoin_cash_address,
    "ETH": ethereum_address,
    "LTC": litecoin_address,
    "XMR": monero_address,
}


# Base58, as Bitcoin and Monero spell it.
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUE = {c: i for i, c in enumerate(_B58)}


def _base58_number(text: str) -> int:
    number = 0
    for char in text:
        if char not in _B58_VALUE:
            raise AddressError(f"{char!r} is not a Base58 character (0, O, I and l are not).")
        number = number * 58 + _B58_VALUE[char]
    return number


def base58check_address(text: str, versions: dict[int, str], coin: str) -> str:
    """A Base58Check address: version byte, 20-byte hash, 4 bytes of double SHA-256."""
    if not 26 <= len(text) <= 35:
        raise AddressError(f"A {coin} address of this kind is 26 to 35 characters long.")
    number = _base58_number(text)
    zeros = len(text) - len(text.lstrip("1"))
    size = (number.bit_length() + 7) // 8
    raw = b"\0" * zeros + number.to_bytes(size, "big")
    if len(raw) != 25:
        raise AddressError(f"This does not decode to a {coin} address (wrong length).")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise AddressError("The checksum does not match: a character is wrong or missing.")
    if payload[0] not in versions:
        raise AddressError(
            f"This is not a main-network {coin} address (version byte {payload[0]:#04x})."
        )
    return text


def monero_base58_decode(text: str) -> bytes:
    """Monero's Base58: 8-byte blocks of 11 characters; a shorter last block."""
    out = bytearray()
    for start in range(0, len(text), 11):
        block = text[start : start + 11]
        size = _MONERO_BLOCK_BYTES.get(len(block))
        if size is None:
            raise AddressError("This is not Monero's Base58 (a block has the wrong length).")
        number = _base58_number(block)
        if number >= 1 << (8 * size):
            raise AddressError("This is not Monero's Base58 (a block overflows).")
        out += number.to_bytes(size, "big")
    return bytes(out)


# Characters of a block → bytes it holds (8 bytes take 11 characters).
_MONERO_BLOCK_BYTES = {2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}


# Bech32 (BIP-173) and bech32m (BIP-350), and CashAddr, share one alphabet.
_B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_B32_VALUE = {c: i for i, c in enumerate(_B32)}
_BECH32_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONSTANT = 1
_BECH32M_CONSTANT = 0x2BC830A3


def _polymod(values: list[int], generators: tuple[int, ...], width: int) -> int:
    """The BCH checksum bech32 (30 bits) and CashAddr (40 bits) share, over 5-bit values."""
    check, low = 1, (1 << (width - 5)) - 1
    for value in values:
        top = check >> (width - 5)
        check = (check & low) << 5 ^ value
        for bit, generator in enumerate(generators):
            if top >> bit & 1:
                check ^= generator
    return check


def _bech32_polymod(values: list[int]) -> int:
    return _polymod(values, _BECH32_GENERATORS, 30)


def _five_bit_values(data: str) -> list[int]:
    if any(c not in _B32_VALUE for c in data):
        bad = next(c for c in data if c not in _B32_VALUE)
        raise AddressError(f"{bad!r} is not a character these addresses use (1, b, i, o are not).")
    return [_B32_VALUE[c] for c in data]


def _single_case(text: str) -> str:
    if text != text.lower() and text != text.upper():
        raise AddressError("The address mixes capitals and small letters.")
    return text.lower()


def segwit_address(hrp: str, text: str) -> str:
    """A native segwit address, lower case. Witness version 0 has a bech32 checksum and a
    20- or 32-byte program; versions 1 to 16 have bech32m and 2 to 40 bytes (BIP-350)."""
    if len(text) > 90:
        raise AddressError("A segwit address is at most 90 characters.")
    text = _single_case(text)
    prefix, _, data = text.rpartition("1")
    if prefix != hrp:
        raise AddressError(f"A main-network address of this currency starts with {hrp}1.")
    if len(data) < 7:
        raise AddressError("The address is too short.")
    values = _five_bit_values(data)
    hrp_values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    residue = _bech32_polymod(hrp_values + values)
    if residue not in (_BECH32_CONSTANT, _BECH32M_CONSTANT):
        raise AddressError("The checksum does not match: a character is wrong or missing.")
    version, program_values = values[0], values[1:-6]
    if version > 16:
        raise AddressError(f"Witness version {version} does not exist (0 to 16).")
    expected = _BECH32_CONSTANT if version == 0 else _BECH32M_CONSTANT
    if residue != expected:
        wanted = "bech32" if version == 0 else "bech32m"
        raise AddressError(f"A version {version} address must carry a {wanted} checksum.")
    program = _regroup_bits(program_values)
    if not 2 <= len(program) <= 40:
        raise AddressError("The witness program must be 2 to 40 bytes long.")
    if version == 0 and len(program) not in (20, 32):
        raise AddressError("A version 0 witness program is 20 or 32 bytes long.")
    return text


def _regroup_bits(values: list[int]) -> bytes:
    """5-bit groups back to bytes; the padding left over must be under 5 bits, all zero."""
    accumulator, bits, out = 0, 0, bytearray()
    for value in values:
        accumulator = accumulator << 5 | value
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append(accumulator >> bits & 0xFF)
    if bits >= 5 or accumulator & ((1 << bits) - 1):
        raise AddressError("The address has bits left over: it is not a valid encoding.")
    return bytes(out)


_CASHADDR_GENERATORS = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
_CASHADDR_PREFIX = "bitcoincash"
# Type bits: 0 P2PKH, 1 P2SH, and their token-aware forms (CashTokens) 2 and 3.
_CASHADDR_TYPES = {0, 1, 2, 3}
_CASHADDR_HASH_BYTES = (20, 24, 28, 32, 40, 48, 56, 64)


def _cashaddr_polymod(values: list[int]) -> int:
    return _polymod(values, _CASHADDR_GENERATORS, 40) ^ 1


def cashaddr_address(text: str) -> str:
    """A Bitcoin Cash CashAddr, as `bitcoincash:<payload>` in lower case; the prefix may
    be left out when typed, as it is part of the checksum anyway."""
    text = _single_case(text)
    prefix, colon, payload = text.rpartition(":")
    if not colon:
        prefix = _CASHADDR_PREFIX
    if prefix != _CASHADDR_PREFIX:
        raise AddressError("A main-network Bitcoin Cash address starts with bitcoincash:.")
    if not 42 <= len(payload) <= 112:
        raise AddressError("This is not a CashAddr address (wrong length).")
    values = _five_bit_values(payload)
    prefix_values = [ord(c) & 31 for c in prefix] + [0]
    if _cashaddr_polymod(prefix_values + values) != 0:
        raise AddressError("The checksum does not match: a character is wrong or missing.")
    raw = _regroup_bits(values[:-8])
    version = raw[0]
    kind, size = version >> 3, version & 7
    if kind not in _CASHADDR_TYPES:
        raise AddressError("This CashAddr is not a payment address (unknown type).")
    if len(raw) - 1 != _CASHADDR_HASH_BYTES[size]:
        raise AddressError("The CashAddr's length does not match its declared hash size.")
    return f"{prefix}:{payload}"


# Keccak-256 (the original Keccak submission, as Ethereum and Monero use it).


def _keccak_round_constants() -> tuple[int, ...]:
    state = 1  # the 8-bit LFSR x^8 + x^6 + x^5 + x^4 + 1

    def next_bit() -> int:
        nonlocal state
        bit = state & 1
        state <<= 1
        if state & 0x100:
            state ^= 0x171
        return bit

    constants = []
    for _ in range(24):
        constant = 0
        for j in range(7):
            if next_bit():
                constant |= 1 << ((1 << j) - 1)
        constants.append(constant)
    return tuple(constants)


def _keccak_rotations() -> tuple[int, ...]:
    rotations = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rotations[x + 5 * y] = (t + 1) * (t + 2) // 2 % 64
        x, y = y, (2 * x + 3 * y) % 5
    return tuple(rotations)


_ROUND_CONSTANTS = _keccak_round_constants()
_ROTATIONS = _keccak_rotations()
_MASK64 = (1 << 64) - 1


def _rotate(lane: int, n: int) -> int:
    return (lane << n | lane >> (64 - n)) & _MASK64 if n else lane


def _keccak_f(lanes: list[int]) -> list[int]:
    """The Keccak-f[1600] permutation on 25 lanes of 64 bits, lane (x, y) at x + 5y."""
    for constant in _ROUND_CONSTANTS:
        columns = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20]
                   for x in range(5)]  # fmt: skip
        lanes = [lanes[i] ^ columns[(i - 1) % 5] ^ _rotate(columns[(i + 1) % 5], 1)
                 for i in range(25)]  # fmt: skip
        moved = [0] * 25
        for x in range(5):
            for y in range(5):
                moved[y + 5 * ((2 * x + 3 * y) % 5)] = _rotate(
                    lanes[x + 5 * y], _ROTATIONS[x + 5 * y]
                )
        lanes = [moved[i] ^ (~moved[(i + 1) % 5 + i - i % 5] & moved[(i + 2) % 5 + i - i % 5])
                 for i in range(25)]  # fmt: skip
        lanes[0] ^= constant
    return lanes


def keccak256(data: bytes) -> bytes:
    return sponge256(data, 0x01)


def sponge256(data: bytes, domain: int) -> bytes:
    """The 256-bit Keccak sponge (rate 136 bytes). Keccak-256 pads with 0x01; SHA3-256,
    the same sponge with 0x06, is how the tests check it against `hashlib`."""
    rate = 136
    padded = bytearray(data) + bytes([domain]) + b"\0" * (-(len(data) + 1) % rate)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for start in range(0, len(padded), rate):
        block = padded[start : start + rate]
        for i in range(rate // 8):
            lanes[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        lanes = _keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])
