"""Looking into PDFs in tests without a PDF library: the decompressed streams, the fonts,
the characters the fonts map to (ToUnicode) and the XMP metadata."""

from __future__ import annotations

import re
import zlib

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def pdf_streams(data: bytes) -> bytes:
    """The file with every Flate stream decompressed and appended (for searching)."""
    out = [data]
    for match in STREAM.finditer(data):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def pdf_fonts(data: bytes) -> set[str]:
    """Base names of the embedded fonts, without the subset prefix (``Portal-Sans``)."""
    names = re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", pdf_streams(data))
    return {name.decode() for name in names}


def pdf_mapped_characters(data: bytes) -> set[str]:
    """Every character a ToUnicode map of the PDF's fonts maps a glyph to: the text the
    document draws, as a set (good enough to check that umlauts were drawn)."""
    chars = set()
    for source in re.findall(rb"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]{4,})>", pdf_streams(data)):
        chars.add(bytes.fromhex(source.decode()).decode("utf-16-be"))
    return chars
