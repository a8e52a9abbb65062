"""Stand-ins for a licensed PhotoDNA implementation, named by dotted path in tests."""

import hashlib


def fake_photodna(image: bytes) -> bytes:
    # Deterministic 144 bytes from the file: enough to test the plumbing, nothing more.
    return hashlib.shake_256(image).digest(144)


def declines(image: bytes) -> None:
    return None


def wrong_length(image: bytes) -> bytes:
    return b"\x01" * 100


def not_bytes(image: bytes) -> str:
    return "a" * 192


def explodes(image: bytes) -> bytes:
    raise RuntimeError("licence server unreachable")


NOT_CALLABLE = 42
