"""Text encodings, decided per file and applied per line, refusing to guess wrong.

UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised first; UTF-16 without a BOM by its NUL bytes.
Otherwise each line is decoded as UTF-8 and, where that fails, with the file's legacy code page: Windows-1252, DOS
code page 850 or Mac Roman, whichever makes the file's non-UTF-8 lines read as Swedish text (in cp850 ä is 0x84,
which Windows-1252 shows as „; Mac Roman's ä, 0x8A, is cp850's è). If even the best of them reads with more rare
letters (è î ì ò ...) than Swedish ones, a warning says the encoding may be wrong. A file mixing UTF-8 and
legacy lines is decoded line by line with Windows-1252 for the legacy lines, and mojibake ("Ã„ntligen") is
repaired with ftfy. A line that no code page explains plausibly (a stray or binary byte) is flagged undecodable,
decoded with U+FFFD in place of the bad bytes, for the reader to quarantine. Streams: memory is bounded by the
longest line, not the file. Common binary formats (PDF, images, archives, old Office files) are recognised by
their first bytes and refused by name.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import ftfy

log = logging.getLogger(__name__)

LEGACY_CODEPAGES = ("cp1252", "cp850", "mac_roman")
"""Candidates in order of preference on a tie."""
_HEAD_BYTES = 64_000
_FLOOR = -5
_BLOCK = 1 << 18

# Plausibility of a non-ASCII character in Swedish text (ASCII is the same in every candidate and scores 0).
_SWEDISH = frozenset("åäöÅÄÖ")
_ACCENTED = frozenset("éÉ")  # idé, armé, René
_FOREIGN = frozenset("üÜèÈàÀáÁíÍóÓúÚñÑçÇøØæÆßêÊëËôÔûÛâÂîÎïÏìÌòÒùÙ")  # rare: what a wrong code page makes of åäö
_RARE_WARNING = 3
"""A legacy decoding with at least this many rare letters, and more of them than Swedish ones, is warned about."""
_ANYWHERE = frozenset("’‘´…")  # apostrophes ("it´s") and "bra…men" sit between letters too
_DASHES = frozenset("–—")  # plausible apart from letters ("8–17", " – "), odd glued to a word ("pi—", cp850 "più")
_PUNCT = frozenset("“”„«»•€§°½¼¾£·©®™\xa0")  # plausible between words, not inside one ("f”r" is "för")
_NEUTRAL = frozenset("ÿõÕãÃðÐþÞýÝ±×µ¹²³ªº¿¡¢¥")


class NotText(ValueError):
    """The bytes are binary data, not text in any supported encoding."""


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1a")
_BINARY_SHARE = 0.01


_MAGICS = (
    (b"%PDF-", "a PDF document", ""),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF87a", "a GIF image", ""),
    (b"GIF89a", "a GIF image", ""),
    (b"\x1f\x8b", "a gzip-compressed file", "; unpack it and submit the file inside"),
    (b"Rar!\x1a\x07", "a RAR archive", "; unpack it and submit the file inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "; unpack it and submit the file inside"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format Office file (.xls or .doc)",
     "; save a workbook as .xlsx"),
)
"""First bytes of common binary formats that are not tables: (magic, what the file is, advice)."""


def binary_kind(head: bytes) -> str | None:
    """What a file whose first bytes are `head` is, if they announce a common binary format that is not a
    table (PDF, image, archive, old Office file); None otherwise."""
    return next((f"{what}, not a table{advice}" for magic, what, advice in _MAGICS if head.startswith(magic)),
                None)


def looks_binary(head: bytes) -> bool:
    """True if control bytes (other than tab, line breaks, form feed and DOS end-of-file) make up more than 1 %
    of the head (trailing NUL padding aside), as in images, archives and other binary files."""
    head = head.rstrip(b"\x00")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls >= 8 and controls > _BINARY_SHARE * len(head)


@dataclass(frozen=True)
class TextEncoding:
    """How a file's text is decoded. `label` is reported (df.attrs["encoding"]); `codec` is set for UTF-16,
    which is decoded as a stream; otherwise lines are decoded one by one (UTF-8, else `legacy`)."""

    label: str
    codec: str | None = None
    legacy: str = "cp1252"
    skip: int = 0  # BOM bytes
    newline: str = "\n"


@dataclass(frozen=True)
class Line:
    """One physical line (terminator kept) with its 1-based line number."""

    number: int
    text: str
    undecodable: bool = False


def _inside_mixed_case_word(text: str, i: int) -> bool:
    """text[i] follows a letter and has a lower-case letter next to it: not a word's initial, not all capitals."""
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    return before.isalpha() and (before.islower() or after.islower())


def char_score(text: str, i: int) -> int:
    """Plausibility of the non-ASCII character text[i] in Swedish text: positive for letters and punctuation
    Swedish writers use, negative for controls and symbols that betray a wrong code page."""
    c = text[i]
    if c in _SWEDISH or c in _ACCENTED:
        if c.isupper() and _inside_mixed_case_word(text, i):
            return 1  # cp850's "IdÄ" is Mac Roman's "Idé", Mac Roman's "MÅller" is cp850's "Müller"
        return 3 if c in _SWEDISH else 2
    if c in _FOREIGN or c in _ANYWHERE:
        return 1
    if c in _PUNCT or c in _DASHES:
        letters = (i > 0 and text[i - 1].isalpha()) + (i < len(text) - 1 and text[i + 1].isalpha())
        if c in _DASHES:
            return (1, 0, -2)[letters]
        return -2 if letters == 2 else 1
    if c in _NEUTRAL:
        return 0
    if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") or c == "\ufffd":
        return -10
    return -2


def letter_counts(text: str) -> tuple[int, int]:
    """(Swedish letters and é, rare foreign letters) among text's characters: what tells a right code page from a
    wrong one that still reads as letters (Mac Roman's "Jättebra" is cp850's "Jèttebra")."""
    return sum(c in _SWEDISH or c in _ACCENTED for c in text), sum(c in _FOREIGN for c in text)


def plausibility(text: str) -> tuple[int, bool]:
    """(total score of the non-ASCII characters, whether any of them is implausible)."""
    total, bad = 0, False
    for i, c in enumerate(text):
        if c >= "\x80":
            s = char_score(text, i)
            total += s
            bad = bad or s < 0
    return total, bad


def legacy_line(raw: bytes, codepage: str) -> str | None:
    """raw decoded with a legacy code page if the result reads as plausible text, else None."""
    try:
        text = raw.decode(codepage)
    except UnicodeDecodeError:
        return None
    total, bad = plausibility(text)
    return text if total > 0 and not bad else None


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le / utf-16-be when the NUL bytes sit in every other position, as in UTF-16 text."""
    sample = head[: len(head) - len(head) % 2][:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _newline(head: bytes) -> str:
    return "\r" if b"\r" in head and b"\n" not in head else "\n"


def _split(blocks: Iterator, sep) -> Iterator:
    """Lines (terminator kept) from a stream of blocks (bytes or str)."""
    rest = None
    for block in blocks:
        parts = (block if rest is None else rest + block).split(sep)
        rest = parts.pop()
        for part in parts:
            yield part + sep
    if rest:
        yield rest


ZIP_MAGIC, PARQUET_MAGIC = b"PK\x03\x04", b"PAR1"
"""The first bytes of the binary formats the readers take (an .xlsx workbook is a zip archive)."""


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    return iter(lambda: stream.read(_BLOCK), b"")


def detect_encoding(stream: BinaryIO) -> TextEncoding:
    """Decide a file's encoding (see the module docstring); reads the whole stream once, line by line.
    Raises NotText for binary data."""
    head = stream.read(_HEAD_BYTES)
    if kind := binary_kind(head):  # before any text test: a small PDF is mostly printable ASCII
        raise NotText(f"binary content: {kind}")
    if head.startswith(codecs.BOM_UTF8):
        base = TextEncoding("utf-8-sig", skip=len(codecs.BOM_UTF8))
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return TextEncoding("utf-16", codec="utf-16")
    elif codec := _utf16_without_bom(head):
        return TextEncoding(codec, codec=codec)
    elif looks_binary(head):
        if head.startswith(ZIP_MAGIC):  # a zip archive: what an .xlsx workbook is
            raise NotText("binary content: a zip archive, as an Excel workbook is; if it is one, give it the "
                          "name suffix .xlsx")
        if head.startswith(PARQUET_MAGIC):
            raise NotText("binary content: a Parquet file; if it is one, give it the name suffix .parquet")
        raise NotText("binary content (control bytes), not text")
    else:
        base = TextEncoding("utf-8")
    newline = _newline(head)
    stream.seek(base.skip)
    utf8_lines, legacy_found = 0, False
    scores = dict.fromkeys(LEGACY_CODEPAGES, 0)
    letters = {codepage: (0, 0) for codepage in LEGACY_CODEPAGES}
    for raw in _split(_blocks(stream), newline.encode()):
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            utf8_lines += 1
            continue
        except UnicodeDecodeError:
            legacy_found = True
        for codepage in LEGACY_CODEPAGES:  # a garbage line weighs no more than a little
            text = raw.decode(codepage, errors="replace")
            total, bad = plausibility(text)
            scores[codepage] += max(total, _FLOOR)
            if total > 0 and not bad:  # a line decode_line will keep: count what it will read as
                common, rare = letter_counts(text)
                letters[codepage] = (letters[codepage][0] + common, letters[codepage][1] + rare)
    if not legacy_found:
        return TextEncoding(base.label, skip=base.skip, newline=newline)
    # Mixed files get Windows-1252 for their legacy lines; otherwise the code page that reads best: the higher
    # sum of the lines' scores, each line's floored at _FLOOR so that a stray garbage line cannot swing it.
    legacy = "cp1252" if utf8_lines else max(LEGACY_CODEPAGES, key=scores.__getitem__)
    label = f"{base.label}+{legacy}" if utf8_lines else legacy
    _warn_if_implausible(label, *letters[legacy])
    return TextEncoding(label, legacy=legacy, skip=base.skip, newline=newline)


def _warn_if_implausible(label: str, common: int, rare: int) -> None:
    """No code page read the legacy lines as Swedish: say so rather than store misread text silently (the
    file is not named: its name may hold personal data)."""
    if rare >= _RARE_WARNING and rare > common:
        log.warning("text encoding %s chosen, but its legacy-encoded lines read with more rare letters (%d) "
                    "than Swedish ones (%d): the encoding may be wrong; check the stored text",
                    label, rare, common)


# UTF-8 read as Windows-1252/Latin-1 leaves a lead byte (Â-ô) before continuation bytes (0x80-0xBF shown as a
# Latin-1 sign, a C1 control or a Windows-1252 symbol).
_CONT = ("\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
         "\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122")
_MOJIBAKE = re.compile(f"[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}|[\u00f0-\u00f4][{_CONT}]{{3}}")


def _as_cp1252_byte(c: str) -> bytes:
    return c.encode("latin-1") if c < "\u0100" else c.encode("cp1252")


def _undo(match: re.Match) -> str:
    """One UTF-8 sequence shown as Windows-1252, decoded back if that gives a plausible character."""
    seq = match.group()
    try:
        char = b"".join(map(_as_cp1252_byte, seq)).decode("utf-8")
    except UnicodeError:
        return seq
    total, bad = plausibility(char)
    return char if total > 0 and not bad else seq


def repair(text: str) -> str:
    """Undo mojibake ("Ã„ntligen" -> "Äntligen") with ftfy, then any sequence ftfy left as too ambiguous
    ("SÃ¥" -> "Så") when it decodes to a plausible character; text without mojibake is returned unchanged."""
    if text.isascii() or not _MOJIBAKE.search(text):
        return text
    fixed = ftfy.fix_encoding(text)
    if "\ufffd" in fixed and "\ufffd" not in text:
        fixed = text
    return _MOJIBAKE.sub(_undo, fixed)


def decode_line(raw: bytes, encoding: TextEncoding) -> tuple[str, bool]:
    """(text, ok) for one line of a byte-decoded file; not ok: no encoding explains it (U+FFFD marks the bytes)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = legacy_line(raw, encoding.legacy)
        if text is None:
            return raw.decode("utf-8", errors="replace"), False
    return repair(text), "\x00" not in text


def iter_lines(stream: BinaryIO, encoding: TextEncoding) -> Iterator[Line]:
    """The stream's lines, decoded and numbered from 1 (the stream is read from its start)."""
    stream.seek(encoding.skip)
    if encoding.codec:
        decoder = codecs.getincrementaldecoder(encoding.codec)(errors="replace")
        texts = _with_final((decoder.decode(block) for block in _blocks(stream)), decoder)
        for number, text in enumerate(_split(texts, encoding.newline), 1):
            text = text.lstrip("\ufeff") if number == 1 else text
            yield Line(number, repair(text), undecodable="\ufffd" in text or "\x00" in text)
        return
    for number, raw in enumerate(_split(_blocks(stream), encoding.newline.encode()), 1):
        text, ok = decode_line(raw, encoding)
        yield Line(number, text, undecodable=not ok)


def _with_final(texts: Iterator[str], decoder) -> Iterator[str]:
    yield from texts
    yield decoder.decode(b"", final=True)


def open_text(path: Path) -> tuple[BinaryIO, TextEncoding]:
    """Open a file and detect its encoding; the caller closes the stream."""
    stream = open(path, "rb")
    try:
        return stream, detect_encoding(stream)
    except BaseException:
        stream.close()
        raise


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode a whole text held in memory: (text, encoding label). Raises UnicodeError naming the first line
    that no supported encoding explains."""
    stream = io.BytesIO(raw)
    encoding = detect_encoding(stream)
    lines = list(iter_lines(stream, encoding))
    bad = next((line.number for line in lines if line.undecodable), None)
    if bad is not None:
        raise UnicodeError(f"line {bad}: no supported text encoding explains its bytes")
    return "".join(line.text for line in lines), encoding.label
