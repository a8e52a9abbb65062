"""md5, sha1 and sha256 of the file bytes, whatever kind of file."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openhotline.signals.types import HASH_TYPES, KINDS

# FIPS 180 / RFC 1321 test vectors.
ABC = {
    "md5": "900150983cd24fb0d6963f7d28e17f72",
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
}
EMPTY = {
    "md5": "d41d8cd98f00b204e9800998ecf8427e",
    "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}


@pytest.mark.parametrize("name", ABC)
@pytest.mark.parametrize("kind", KINDS)
def test_digests_of_known_bytes(name, kind):
    hash_type = HASH_TYPES[name]
    [value] = hash_type.compute(b"abc", kind)
    assert (value.hash_type, value.value, value.quality) == (name, ABC[name], None)
    assert value.usable_for_matching
    [empty] = hash_type.compute(b"", kind)
    assert empty.value == EMPTY[name]


@given(data=st.binary(max_size=4096))
def test_digests_equal_hashlib(data):
    for name in ABC:
        [value] = HASH_TYPES[name].compute(data, "other")
        assert value.value == hashlib.new(name, data).hexdigest()
        assert HASH_TYPES[name].normalize(value.value.upper()) == value.value


@pytest.mark.parametrize("name", ABC)
def test_exact_distance_is_zero_or_one(name):
    hash_type = HASH_TYPES[name]
    assert hash_type.distance(ABC[name], ABC[name].upper()) == 0
    assert hash_type.distance(ABC[name], EMPTY[name]) == 1
    assert hash_type.matches(ABC[name], ABC[name].upper())
    assert not hash_type.matches(ABC[name], EMPTY[name])
