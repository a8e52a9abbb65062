"""What a file is, from its first bytes (never from its name or headers): the kind that
picks the hash types (`compute_all`), its MIME type and format. Kinds are the values of
`evidence.models.MediaKind`."""

_SIGNATURES: list[tuple[bytes, int, str, str, str]] = [
    # (magic, offset, kind, mime, format)
    (b"\xff\xd8\xff", 0, "image", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "image", "image/png", "PNG"),
    (b"GIF87a", 0, "image", "image/gif", "GIF"),
    (b"GIF89a", 0, "image", "image/gif", "GIF"),
    (b"BM", 0, "image", "image/bmp", "BMP"),
    (b"II*\x00", 0, "image", "image/tiff", "TIFF"),
    (b"MM\x00*", 0, "image", "image/tiff", "TIFF"),
    (b"\x1aE\xdf\xa3", 0, "video", "video/webm", "WEBM"),
    (b"OggS", 0, "video", "video/ogg", "OGG"),
    (b"FLV", 0, "video", "video/x-flv", "FLV"),
]


def sniff(data: bytes) -> tuple[str, str, str]:
    """(kind, mime, format) from the first bytes."""
    for magic, offset, kind, mime, fmt in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return kind, mime, fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "image/webp", "WEBP"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "video", "video/x-msvideo", "AVI"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "image", "image/avif", "AVIF"
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image", "image/heic", "HEIC"
        if brand.startswith(b"qt"):
            return "video", "video/quicktime", "MOV"
        return "video", "video/mp4", "MP4"
    return "other", "application/octet-stream", ""
