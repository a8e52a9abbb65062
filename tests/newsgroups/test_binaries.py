"""Decoding binary posts: yEnc (single and multi-part), uuencode and MIME, and hostile input.

The pictures are generated benign JPEGs; every hostile case asserts a typed error with a
plain reason, and the large ones assert they finish quickly (linear time, bounded memory).
"""

import time
import zlib
from binascii import b2a_base64, b2a_uu

import pytest

from openhotline.newsgroups.binaries import (
    BinaryError,
    IncompleteError,
    MimeError,
    Reassembler,
    ReassemblyError,
    UuencodeError,
    YencError,
    attachments,
    decode_mime,
    decode_uuencode,
    decode_yenc,
    subject_stem,
)
from openhotline.simnet.images import make_jpeg
from openhotline.simnet.nntp import yenc_encode, yenc_parts

JPEG = make_jpeg("binaries-test")
EVERY_BYTE = bytes(range(256)) * 8  # every critical character, at line starts too


def single_yenc(data: bytes, name: str = "a.jpg", *, size: int | None = None) -> bytes:
    lines = [
        f"=ybegin line=128 size={len(data) if size is None else size} name={name}".encode(),
        *yenc_encode(data),
        f"=yend size={len(data)} crc32={zlib.crc32(data):08x}".encode(),
    ]
    return b"\r\n".join(lines) + b"\r\n"


# --- yEnc -------------------------------------------------------------------------------------


def test_single_part_yenc_gives_the_original_bytes() -> None:
    for data in (JPEG, EVERY_BYTE, b""):
        decoded = decode_yenc(single_yenc(data, "my picture.jpg"))
        assert decoded.data == data
        assert decoded.name == "my picture.jpg"  # names keep their spaces
        assert (decoded.part, decoded.total) == (1, 1)


def test_multi_part_yenc_reassembles_into_the_original_jpeg() -> None:
    bodies = yenc_parts("p.jpg", JPEG, 4)
    parts = [decode_yenc(body) for body in bodies]
    assert [p.part for p in parts] == [1, 2, 3, 4]
    joiner = Reassembler()
    stems = {joiner.add(f'"p.jpg" yEnc ({p.part}/4)', p) for p in reversed(parts)}
    assert len(stems) == 1
    assert joiner.assemble(stems.pop()).data == JPEG


def test_a_missing_part_is_named() -> None:
    parts = [decode_yenc(body) for body in yenc_parts("p.jpg", JPEG, 5)]
    joiner = Reassembler()
    for p in parts:
        if p.part not in (2, 4):
            stem = joiner.add(f"p.jpg yEnc ({p.part}/5)", p)
    with pytest.raises(IncompleteError, match=r"incomplete, parts 2, 4 missing") as caught:
        joiner.assemble(stem)
    assert caught.value.missing == [2, 4]


def test_a_wrong_crc_is_refused() -> None:
    body = single_yenc(JPEG).replace(f"crc32={zlib.crc32(JPEG):08x}".encode(), b"crc32=deadbeef")
    with pytest.raises(YencError, match="CRC32 mismatch"):
        decode_yenc(body)


def test_a_corrupted_byte_in_a_part_fails_its_pcrc32() -> None:
    body = bytearray(yenc_parts("p.jpg", JPEG, 2)[1])
    middle = body.index(b"\r\n", body.index(b"=ypart")) + 10
    body[middle] = ord("A") if body[middle] != ord("A") else ord("B")
    with pytest.raises(YencError, match=r"p\.jpg part 2: CRC32 mismatch"):
        decode_yenc(bytes(body))


def test_a_part_of_the_wrong_size_is_refused() -> None:
    body = yenc_parts("p.jpg", JPEG, 2)[0]
    lines = body.split(b"\r\n")
    shorter = b"\r\n".join([*lines[:3], *lines[4:]])  # one data line lost
    with pytest.raises(YencError, match="wrong size"):
        decode_yenc(shorter)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"=ybegin size=3 name=a\r\nabc=\r\n=yend size=3\r\n", "escape character ends a line"),
        (b"=ybegin size=3 name=a\r\na==bc\r\n=yend size=3\r\n", "escapes nothing"),
        (b"=ybegin size=3 name=a\r\nkkk\r\n", "truncated, no =yend"),
        (b"no header at all\r\n", "no =ybegin"),
        (b"=ybegin size=x1 name=a\r\n=yend size=0\r\n", "is not a number"),
        (b"=ybegin part=1 size=3 name=a\r\nkkk\r\n=yend size=3\r\n", "no =ypart"),
        (
            b"=ybegin part=1 total=2 size=3 name=a\r\n=ypart begin=2 end=9\r\n",
            "range 2-9 outside a file of 3 bytes",
        ),
        (b"=ybegin size=2 name=a\r\nkkkk\r\n=yend size=2\r\n", "more data than"),
        (b"=ybegin size=3 name=a\r\n=ybegin size=3\r\n", "unexpected"),
    ],
)
def test_broken_yenc_is_a_typed_error(body: bytes, reason: str) -> None:
    with pytest.raises(YencError, match=reason):
        decode_yenc(body)


def test_a_part_claiming_a_huge_size_is_refused_before_decoding() -> None:
    body = b"=ybegin size=99999999999999 name=huge.jpg\r\n" + b"k" * 100 + b"\r\n=yend size=100\r\n"
    with pytest.raises(YencError, match="declares 99999999999999 bytes, more than"):
        decode_yenc(body, max_bytes=1024 * 1024)


def test_an_endless_line_is_refused() -> None:
    body = b"=ybegin size=10 name=a\r\n" + b"k" * (2 * 1024 * 1024)
    with pytest.raises(BinaryError, match="a line of more than"):
        decode_yenc(body)


def test_yenc_decoding_is_linear_in_escapes() -> None:
    # Every byte escaped (0xD6 + 42 = 0x00): the worst case for a per-escape decoder.
    data = b"\xd6" * (4 * 1024 * 1024)
    body = single_yenc(data)
    started = time.monotonic()
    assert decode_yenc(body).data == data
    assert time.monotonic() - started < 5


# --- reassembly under hostile part counts ------------------------------------------------------


def _part(number: int, total: int, data: bytes = b"x", size: int = 1) -> bytes:
    return (
        f"=ybegin part={number} total={total} size={size} name=many.bin\r\n"
        f"=ypart begin=1 end={len(data)}\r\n".encode()
        + b"\r\n".join(yenc_encode(data))
        + f"\r\n=yend size={len(data)} part={number} pcrc32={zlib.crc32(data):08x}\r\n".encode()
    )


def test_a_post_claiming_too_many_parts_is_refused() -> None:
    joiner = Reassembler(max_parts=10_000)
    with pytest.raises(ReassemblyError, match="20000 parts, more than 10000"):
        joiner.add("many.bin (1/20000)", decode_yenc(_part(1, 20_000)))


def _feed_parts(joiner: Reassembler, count: int, data: bytes) -> None:
    for n in range(1, count + 1):
        body = _part(n, count, data, size=len(data) * count)
        body = body.replace(
            f"begin=1 end={len(data)}".encode(),
            f"begin={(n - 1) * len(data) + 1} end={n * len(data)}".encode(),
        )
        joiner.add(f"many.bin ({n}/{count})", decode_yenc(body))


def test_thousands_of_parts_fill_memory_only_up_to_the_limit() -> None:
    joiner = Reassembler(max_bytes=5_000)
    started = time.monotonic()
    with pytest.raises(ReassemblyError, match="more than the 5000 bytes allowed") as caught:
        _feed_parts(joiner, 10_000, b"y" * 100)
    assert "part 51" in str(caught.value)
    assert time.monotonic() - started < 5


def test_ten_thousand_parts_reassemble_within_the_limits() -> None:
    joiner = Reassembler()
    started = time.monotonic()
    _feed_parts(joiner, 10_000, b"z" * 10)
    stem = subject_stem("many.bin (1/10000)")
    assert joiner.assemble(stem).data == b"z" * 100_000
    assert time.monotonic() - started < 10


def test_thousands_of_missing_parts_make_a_short_reason() -> None:
    joiner = Reassembler()
    stem = joiner.add("many.bin (1/9000)", decode_yenc(_part(1, 9000, size=9000)))
    with pytest.raises(IncompleteError) as caught:
        joiner.assemble(stem)
    assert len(caught.value.missing) == 8999
    assert "(8999 in all)" in str(caught.value) and len(str(caught.value)) < 200


def test_parts_that_disagree_on_the_file_are_refused() -> None:
    joiner = Reassembler()
    joiner.add("many.bin (1/3)", decode_yenc(_part(1, 3, size=3)))
    with pytest.raises(ReassemblyError, match="disagrees with earlier parts"):
        joiner.add("many.bin (2/3)", decode_yenc(_part(2, 3, size=4)))


def test_subject_stem_drops_only_the_last_part_counter() -> None:
    assert subject_stem('"a (1/2).jpg" yEnc (3/12)') == '"a (1/2).jpg" yEnc (*)'
    assert subject_stem("holiday [07/10]") == "holiday (*)"


# --- uuencode ---------------------------------------------------------------------------------


def uu_body(data: bytes, name: str = "u.jpg") -> bytes:
    lines = [b2a_uu(data[i : i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    return b"\r\n".join([b"Some words first", b"begin 644 " + name.encode(), *lines, b"`", b"end"])


def test_uuencode_gives_the_original_bytes() -> None:
    (found,) = decode_uuencode(uu_body(JPEG) + b"\r\n")
    assert found.name == "u.jpg" and found.data == JPEG and found.encoding == "uuencode"


def test_broken_uuencode_is_a_typed_error() -> None:
    with pytest.raises(UuencodeError, match="truncated, no end line"):
        decode_uuencode(uu_body(JPEG).rsplit(b"\r\n", 1)[0])
    with pytest.raises(UuencodeError, match="line 2 is not uuencoded"):
        decode_uuencode(b"begin 644 x\r\nM" + b"!" * 60 + b"\r\nM\xff\xfe\r\nend\r\n")


# --- MIME -------------------------------------------------------------------------------------


def mime_article(data: bytes, boundary: str = "b1") -> bytes:
    return (
        (
            f"Subject: m\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
            f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="m.jpg"\r\n\r\n'
        ).encode()
        + b2a_base64(data)
        + f"--{boundary}--\r\n".encode()
    )


def test_mime_attachment_gives_the_original_bytes() -> None:
    (found,) = attachments(mime_article(JPEG))
    assert (found.name, found.data, found.encoding) == ("m.jpg", JPEG, "mime")


def test_quoted_printable_parts_decode() -> None:
    article = (
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n'
        b"--q\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nA=00B=FF\r\n--q--\r\n"
    )
    (found,) = decode_mime(article)
    assert found.data.rstrip(b"\r\n") == b"A\x00B\xff"


def test_a_nested_mime_bomb_is_refused_before_parsing() -> None:
    depth = 5000
    head = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n'.encode()
        for n in range(depth)
    )
    article = b"MIME-Version: 1.0\r\n" + head + b"x\r\n"
    started = time.monotonic()
    with pytest.raises(MimeError, match="nested or sibling multiparts"):
        attachments(article)
    assert time.monotonic() - started < 2


def test_too_many_mime_parts_are_refused() -> None:
    body = b"".join(b"--b\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n" for _ in range(500))
    article = b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    with pytest.raises(MimeError, match="more than 100 MIME parts"):
        decode_mime(article + body + b"--b--\r\n")


def test_a_single_part_mime_picture_is_found() -> None:
    article = (
        b"Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: image/jpeg\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b2a_base64(JPEG)
    )
    (found,) = attachments(article)
    assert (found.encoding, found.data) == ("mime", JPEG)


def test_a_yenc_post_labelled_text_plain_is_read_as_yenc() -> None:
    header = (
        b"Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\n"
    )
    (found,) = attachments(header + single_yenc(JPEG))
    assert (found.encoding, found.data) == ("yenc", JPEG)


def test_thousands_of_empty_posts_are_bounded_by_parts_held() -> None:
    joiner = Reassembler(max_parts=100)
    empty = decode_yenc(single_yenc(b""))
    for n in range(100):
        joiner.add(f"empty {n}", empty)
    with pytest.raises(ReassemblyError, match="more than 100 parts held"):
        joiner.add("empty 100", empty)


def test_attachments_picks_the_encoding_from_the_article() -> None:
    header = b"Subject: s\r\n\r\n"
    assert attachments(header + single_yenc(JPEG))[0].data == JPEG
    assert attachments(header + uu_body(JPEG) + b"\r\n")[0].data == JPEG
    assert attachments(header + b"just words\r\n") == []
