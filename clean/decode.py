"""Bytes of an HTTP body -> text, without mojibake.

Order (as browsers do, with one guard): a byte-order mark; the charset of the HTTP Content-Type
header; the page's own <meta charset> / <meta http-equiv>; then detection (charset-normalizer).
The guard: a declaration is only believed if the bytes decode under it. A page declared in any
legacy charset (ISO-8859-1, Windows-1252, Windows-1251, KOI8-R, Shift_JIS, ...) whose bytes are
valid UTF-8 with multi-byte sequences is UTF-8 (the classic mojibake: "cafÃ©", "Ð¼Ð¸Ñ€"), since
text in a legacy charset almost never forms valid UTF-8 by chance: in a single-byte charset it
would take a letter followed by the right number of bytes from 0x80-0xBF, mostly punctuation
and symbols there, again and again. A declaration under
which the bytes do not decode (beyond a stray bad byte or two) is passed over for the next source.
Undecodable bytes that remain become U+FFFD; nothing raises.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

# WHATWG's encoding labels map several legacy names to their supersets, which is what browsers (and
# therefore page authors) actually use.
_SUPERSETS = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "l1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252", "iso-8859-9": "cp1254", "latin5": "cp1254",
    "iso-8859-11": "cp874", "tis-620": "cp874", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "gb_2312-80": "gb18030", "chinese": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "ms_kanji": "cp932", "windows-31j": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs", "x-mac-roman": "mac-roman", "unicode": "utf-16", "utf-16": "utf-16",
}

_META_RE = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]{1,40})""", re.I)
_CT_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]{1,40})""", re.I)

# How many bytes are scanned for a <meta charset> (HTML5 says 1024; real pages put it later).
META_SCAN_BYTES = 8192
# How many bytes charset detection reads (it is slow on large pages; the start is enough).
DETECT_BYTES = 65536
# A declared encoding is kept if at most this share of characters fail to decode (stray bad bytes).
MAX_BAD_SHARE = 0.001
# Valid UTF-8 bytes declared as a multi-byte legacy charset that also decodes them: UTF-8 from this
# many non-ASCII characters on (fewer can be that charset's characters forming UTF-8 by chance).
MIN_UTF8_CHARS = 8


@dataclass
class Decoded:
    text: str
    encoding: str  # Python codec name used
    source: str  # bom | header | meta | utf8 | detected | fallback
    errors: int = 0  # characters replaced by U+FFFD


def normalize_charset(label: Optional[str]) -> Optional[str]:
    """A charset label from a header or meta tag -> a Python codec name (None if unknown)."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def charset_from_content_type(content_type: Optional[str]) -> Optional[str]:
    if not content_type:
        return None
    m = _CT_CHARSET_RE.search(content_type)
    return normalize_charset(m.group(1)) if m else None


def charset_from_meta(body: bytes) -> Optional[str]:
    m = _META_RE.search(body[:META_SCAN_BYTES])
    enc = normalize_charset(m.group(1).decode("ascii", "replace")) if m else None
    # A <meta> readable as ASCII bytes cannot be in UTF-16: the HTML standard reads it as UTF-8.
    return "utf-8" if enc and enc.startswith("utf-16") else enc


def _utf8_chars(body: bytes) -> int:
    """Non-ASCII characters in a body that is valid UTF-8 (its lead bytes)."""
    return sum(body.count(bytes([b])) for b in range(0xC2, 0xF5))


@lru_cache(maxsize=None)
def _single_byte(encoding: str) -> bool:
    """Whether every byte is one character in this codec (cp1251, KOI8-R, ISO-8859-*), not a multi-byte one."""
    try:
        return len(bytes(range(256)).decode(encoding, errors="replace")) == 256
    except LookupError:
        return False


def _bom(body: bytes) -> Optional[str]:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _is_utf8_with_multibyte(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _try(body: bytes, encoding: str) -> Optional[tuple[str, int]]:
    """(text, replaced characters) if the body decodes under `encoding` with few errors, else None."""
    try:
        return body.decode(encoding), 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = body.decode(encoding, errors="replace")
    bad = text.count("\ufffd")
    if bad > max(1, MAX_BAD_SHARE * len(text)):
        return None
    if encoding in ("utf-8", "utf-8-sig") and _non_ascii(text) - bad < bad:
        # Declared UTF-8 but with fewer well-formed multi-byte characters than broken ones: a page in
        # a legacy charset with a few accents ("Se\xf1ora"), not a UTF-8 page with a stray byte.
        return None
    return text, bad


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def _detect(body: bytes) -> Optional[str]:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    matches = from_bytes(body[:DETECT_BYTES])
    best = matches.best()
    if best is None:
        return None
    # With few non-ASCII bytes several single-byte charsets fit equally well (ñ is ń in cp1250);
    # among those tied with the best, prefer Windows-1252, the web's default for undeclared pages.
    for m in matches:
        if (m.chaos, m.coherence) == (best.chaos, best.coherence) and normalize_charset(m.encoding) == "cp1252":
            return "cp1252"
    return normalize_charset(best.encoding)


def decode_html(body: bytes, content_type: Optional[str] = None) -> Decoded:
    """Decode an HTML body using the header charset, then <meta>, then detection."""
    bom = _bom(body)
    if bom:
        return Decoded(body.decode(bom, errors="replace"), bom, "bom")
    utf8 = None  # computed once, lazily
    tried = set()
    for source, enc in (("header", charset_from_content_type(content_type)), ("meta", None)):
        if source == "meta":
            enc = charset_from_meta(body)
        if not enc or enc in tried:
            continue
        tried.add(enc)
        if not enc.startswith("utf"):  # a legacy charset: see the guard above
            if utf8 is None:
                utf8 = _is_utf8_with_multibyte(body)
            # In a multi-byte charset (Shift_JIS, GBK, Big5, EUC-KR) a few characters can form valid
            # UTF-8 by chance (half-width "ﾃｽ" is C3 BD, UTF-8's "ý"; kanji and hanzi never do for
            # long): there, UTF-8 wins when the bytes do not decode under the declaration, or when they
            # hold MIN_UTF8_CHARS or more UTF-8 characters (a UTF-8 page, whatever the server says).
            if utf8 and (_single_byte(enc) or _try(body, enc) is None or _utf8_chars(body) >= MIN_UTF8_CHARS):
                return Decoded(body.decode("utf-8"), "utf-8", "utf8")
        got = _try(body, enc)
        if got is not None:
            return Decoded(got[0], enc, source, got[1])
    # Nothing declared (or nothing that fits): UTF-8 if the bytes are UTF-8, else detect.
    if utf8 or (utf8 is None and _is_utf8_with_multibyte(body)) or body.isascii():
        return Decoded(body.decode("utf-8"), "utf-8", "utf8")
    enc = _detect(body)
    if enc:
        got = _try(body, enc)
        if got is not None:
            return Decoded(got[0], enc, "detected", got[1])
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad > 0.01 * len(text):
        text = body.decode("cp1252", errors="replace")
        return Decoded(text, "cp1252", "fallback", text.count("\ufffd"))
    return Decoded(text, "utf-8", "fallback", bad)
