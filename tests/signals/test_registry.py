"""The registry: which types exist, what each says about itself, and compute_all."""

import pytest

from openhotline.signals.types import (
    HASH_TYPES,
    KINDS,
    BadHash,
    UnknownHashType,
    compute_all,
    get_hash_type,
)
from openhotline.signals.types.photodna import PHOTODNA_DEFAULT_THRESHOLD
from tests.signals.media import encode, gradient, video


def test_the_registry_holds_every_type_by_its_own_name():
    assert list(HASH_TYPES) == ["md5", "sha1", "sha256", "pdq", "video", "photodna"]
    for name, hash_type in HASH_TYPES.items():
        assert hash_type.name == name
        assert get_hash_type(name) is hash_type


def test_exactness_and_default_thresholds():
    exact = {name for name, hash_type in HASH_TYPES.items() if hash_type.exact}
    assert exact == {"md5", "sha1", "sha256"}
    thresholds = {name: hash_type.default_threshold for name, hash_type in HASH_TYPES.items()}
    assert thresholds == {
        "md5": 0,
        "sha1": 0,
        "sha256": 0,
        "pdq": 31,
        "video": 20,  # at least 80% of frames matched both ways
        "photodna": PHOTODNA_DEFAULT_THRESHOLD,
    }


@pytest.mark.parametrize("name", list(HASH_TYPES))
def test_examples_are_canonical_and_match_themselves(name):
    hash_type = HASH_TYPES[name]
    assert len(hash_type.examples) >= 2
    for example in hash_type.examples:
        assert hash_type.normalize(example) == example
        assert hash_type.distance(example, example) == 0
        assert hash_type.matches(example, example)
    first, second = hash_type.examples[:2]
    assert hash_type.distance(first, second) > 0


def test_unknown_type_names_the_known_ones():
    with pytest.raises(UnknownHashType) as caught:
        get_hash_type("phash")
    assert str(caught.value) == (
        "unknown hash type 'phash'; known: md5, sha1, sha256, pdq, video, photodna"
    )
    assert isinstance(caught.value, KeyError)


def test_bad_hash_is_a_value_error_with_its_parts():
    with pytest.raises(ValueError, match=r"bad pdq hash: not hex: 'x' is not a hex digit"):
        HASH_TYPES["pdq"].parse("x" * 64)
    error = BadHash("md5", BadHash.WRONG_LENGTH, "expected 32 hex digits, got 3")
    assert (error.hash_type, error.problem, error.position, error.line) == (
        "md5",
        "wrong length",
        None,
        None,
    )


def test_compute_all_for_an_image():
    result = compute_all(encode(gradient()), "image")
    assert [value.hash_type for value in result.values] == ["md5", "sha1", "sha256", "pdq"]
    assert result.failures == {}


def test_compute_all_for_a_video():
    result = compute_all(video(seconds=2), "video")
    assert [value.hash_type for value in result.values] == ["md5", "sha1", "sha256", "video"]
    assert result.failures == {}


def test_compute_all_for_other_files_gives_only_digests():
    result = compute_all(b"%PDF-1.7 not media", "other")
    assert [value.hash_type for value in result.values] == ["md5", "sha1", "sha256"]


def test_compute_all_reports_bad_media_and_keeps_the_digests():
    result = compute_all(b"\xff\xd8\xff\xe0 a truncated jpeg", "image")
    assert [value.hash_type for value in result.values] == ["md5", "sha1", "sha256"]
    assert list(result.failures) == ["pdq"]
    broken_video = compute_all(b"\x00\x00\x00\x18ftypmp42 but nothing else", "video")
    assert list(broken_video.failures) == ["video"]


@pytest.mark.parametrize("name", list(HASH_TYPES))
def test_every_type_refuses_an_unknown_kind(name):
    assert "audio" not in KINDS
    with pytest.raises(ValueError, match="unknown media kind 'audio'"):
        HASH_TYPES[name].compute(b"", "audio")
