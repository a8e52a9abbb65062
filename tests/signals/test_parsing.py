"""Reading and writing hashes: canonical forms, round trips, and every kind of bad input
answered with a BadHash that says what is wrong and where."""

import pytest

from openhotline.signals.types import HASH_TYPES, BadHash

PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
TEXT_TYPES = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}


@pytest.mark.parametrize(("name", "digits"), TEXT_TYPES.items())
def test_hex_types_round_trip_in_lowercase(name, digits):
    hash_type = HASH_TYPES[name]
    value = ("0123456789abcdef" * 5)[:digits]
    assert hash_type.normalize(value) == value
    assert hash_type.normalize(value.upper()) == value
    assert hash_type.format(hash_type.parse(value)) == value


@pytest.mark.parametrize("name", TEXT_TYPES)
def test_surrounding_whitespace_is_forgiven(name):
    hash_type = HASH_TYPES[name]
    value = hash_type.examples[0]
    assert hash_type.normalize(f"  {value}\t\n") == value


def test_pdq_keeps_leading_zero_bits():
    value = "00" * 31 + "01"
    assert HASH_TYPES["pdq"].normalize(value) == value


def bad(name: str, value: object) -> BadHash:
    with pytest.raises(BadHash) as caught:
        HASH_TYPES[name].parse(value)
    assert caught.value.hash_type == name
    return caught.value


@pytest.mark.parametrize(("name", "digits"), TEXT_TYPES.items())
def test_wrong_length(name, digits):
    for value in ("a" * (digits - 1), "a" * (digits + 1), "ab"):
        error = bad(name, value)
        assert error.problem == BadHash.WRONG_LENGTH
        assert f"expected {digits} hex digits, got {len(value)}" in str(error)


@pytest.mark.parametrize(("name", "digits"), TEXT_TYPES.items())
def test_non_hex_is_located(name, digits):
    value = "a" * 5 + "g" + "a" * (digits - 6)
    error = bad(name, value)
    assert (error.problem, error.position) == (BadHash.NOT_HEX, 6)
    assert str(error) == f"bad {name} hash: not hex: 'g' is not a hex digit (at position 6)"
    # Positions count from the text as given, surrounding whitespace included.
    assert bad(name, "  " + value).position == 8


@pytest.mark.parametrize("name", TEXT_TYPES)
def test_inner_whitespace_is_located(name):
    value = HASH_TYPES[name].examples[0]
    error = bad(name, value[:10] + " " + value[11:])
    assert (error.problem, error.position) == (BadHash.WHITESPACE, 11)


@pytest.mark.parametrize("name", list(HASH_TYPES))
@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_and_whitespace_only(name, value):
    assert bad(name, value).problem == BadHash.EMPTY


@pytest.mark.parametrize("name", list(HASH_TYPES))
@pytest.mark.parametrize("value", [None, 12345, 1.5, True, {"hash": "x"}])
def test_wrong_type(name, value):
    error = bad(name, value)
    assert error.problem == BadHash.WRONG_TYPE
    assert type(value).__name__ in str(error)


@pytest.mark.parametrize("name", ["md5", "sha1", "sha256", "pdq"])
def test_bytes_are_not_text(name):
    # Raw digests are not accepted: 32 bytes could be a PDQ hash or an md5 in hex.
    assert bad(name, b"\x00" * 32).problem == BadHash.WRONG_TYPE


@pytest.mark.parametrize("name", list(HASH_TYPES))
def test_is_valid(name):
    hash_type = HASH_TYPES[name]
    assert hash_type.is_valid(hash_type.examples[0])
    assert not hash_type.is_valid("not a hash")
    assert not hash_type.is_valid(None)


def test_distance_and_matches_refuse_bad_input():
    with pytest.raises(BadHash):
        HASH_TYPES["pdq"].distance(PDQ, "nope")
    with pytest.raises(BadHash):
        HASH_TYPES["pdq"].matches(None, PDQ)
