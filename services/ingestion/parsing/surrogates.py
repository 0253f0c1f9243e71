"""Lone surrogate escapes in delivered JSON: carry them through the parser, then repair them.

The data team's exporter writes bytes it could not decode as ``\\udcXX`` escapes (Python's
``surrogateescape``): ``Pok\\udc8emon GO`` is ``Pok``, the byte 0x8E of a legacy encoding, ``mon GO``.
Such an escape is valid JSON text but not a Unicode character, and parsers disagree about it: ijson's
yajl2_c backend raises ``UnicodeDecodeError`` on a lone low surrogate and silently turns a lone high
surrogate into ``?``; the pure Python backend passes them through. So :class:`ShieldedStream` rewrites
every lone surrogate escape in the raw bytes into a private marker before any parser sees it, and
:func:`restore` turns the marker back into the lone surrogate in the parsed strings. The marker is the
noncharacter U+FDD0 (reserved by Unicode for internal use) followed by the four hex digits; a genuine
U+FDD0 in the file is doubled, so the round trip is exact whatever the file contains.

Repair rule (:func:`repair_text`), per text value:

- each run of consecutive ``\\udc80``-``\\udcff`` escapes is a run of bytes 0x80-0xFF;
- a run that is valid UTF-8 (``\\udcc3\\udca9``) is decoded as UTF-8 (``é``);
- any other run is decoded byte by byte as Mac OS Roman (0x8E is ``é``);
- every decoded character must be a letter, mark, number, punctuation or symbol (Unicode categories
  L, M, N, P, S); a control, format, private-use (Mac Roman 0xF0 is the Apple logo) or space character
  is ambiguous, so the value is unrepairable;
- an escape below 0x80 (ASCII is never escaped), a surrogate that is not a byte escape (a lone
  ``\\ud83c``), or one value mixing UTF-8 and Mac Roman runs is unrepairable too.

Valid surrogate pairs (``\\ud83c\\udfae``, an emoji) are ordinary text and never touched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO

MARK = "\ufdd0"
_MARK_UTF8 = MARK.encode()
_MARK_ESCAPE = b"\\ufdd0"
_BOM = b"\xef\xbb\xbf"
_BACKSLASH = 0x5C
# The longest token the rewriter must see whole: an escaped surrogate pair (12 bytes).
_HOLD = 12

# A valid surrogate pair first (ordinary text), else a single escape.
_ESCAPE = re.compile(
    rb"\\u(?P<high>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<low>[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|\\u(?P<one>[0-9a-fA-F]{4})"
)
_MARKED = re.compile(MARK + "(" + MARK + "|[0-9a-f]{4})")
_SURROGATES = re.compile("[\ud800-\udfff]+")
_PRINTABLE = frozenset("LMNPS")


class Unrepairable(ValueError):
    """A text value whose escaped bytes do not decode unambiguously; the message says why."""


class ShieldedStream:
    """A binary stream over `raw` in which lone surrogate escapes are replaced by a private marker."""

    def __init__(self, raw: BinaryIO, chunk_size: int = 64 * 1024) -> None:
        self._raw = raw
        self._chunk_size = chunk_size
        self._tail = b""
        self._started = False
        self._done = False
        self.consumed = 0  # bytes taken from `raw`, to say roughly where a broken file broke
        self.saw_content = False  # any non-whitespace byte at all, to tell an empty file apart

    def read(self, size: int = -1) -> bytes:
        """The next rewritten bytes (their length is not tied to `size`); b"" only at the end."""
        if size == 0:
            return b""
        while not self._done:
            chunk = self._raw.read(self._chunk_size)
            self.consumed += len(chunk)
            if not self.saw_content and chunk.strip():
                self.saw_content = True
            final = not chunk
            self._done = final
            buf = self._tail + chunk
            if not self._started:
                if len(buf) < len(_BOM) and not final:
                    self._tail = buf
                    continue
                # Some Windows tools write a UTF-8 byte order mark, which JSON parsers refuse.
                buf = buf.removeprefix(_BOM)
                self._started = True
            out, self._tail = _rewrite(buf, final)
            if out:
                return out
        return b""


def _rewrite(buf: bytes, final: bool) -> tuple[bytes, bytes]:
    """Rewrite what can be decided now; hold back the end of `buf` when a token may continue."""
    limit = len(buf) if final else len(buf) - _HOLD
    if limit <= 0:
        return b"", buf
    parts: list[bytes] = []
    pos = 0  # end of what is already in `parts`
    decided = 0  # end of the last token seen whole; the cut may not fall before it
    search = 0
    # bytes.find runs at memchr speed: most chunks of most files hold no escape at all, and a regex
    # search for either token cost a quarter of the whole parse.
    mark = buf.find(_MARK_UTF8)
    while True:
        escape = buf.find(b"\\u", search)
        if 0 <= mark < search:
            mark = buf.find(_MARK_UTF8, search)
        start = min((x for x in (escape, mark) if x >= 0), default=-1)
        if start < 0 or start >= limit:
            break
        if start == mark:
            replacement: bytes | None = _MARK_ESCAPE + _MARK_ESCAPE  # a raw U+FDD0 in the file
            end = start + len(_MARK_UTF8)
        elif _escaped(buf, start):
            search = start + 1  # an escaped backslash followed by a literal "u"
            continue
        elif (match := _ESCAPE.match(buf, start)) is None:
            search = start + 2  # a malformed escape: the parser will reject it
            continue
        else:
            replacement, end = _replacement(match), match.end()
        if replacement is not None:
            parts.append(buf[pos:start])
            parts.append(replacement)
            pos = end
        search = decided = end
    cut = max(limit, decided)
    # The held-back part must start at a token boundary: never inside or right after a backslash run.
    while cut > decided and buf[cut - 1] == _BACKSLASH:
        cut -= 1
    parts.append(buf[pos:cut])
    return b"".join(parts), buf[cut:]


def _escaped(buf: bytes, start: int) -> bool:
    """Whether the backslash at `start` is escaped: an odd run of backslashes before it."""
    run = 0
    while start - run > 0 and buf[start - run - 1] == _BACKSLASH:
        run += 1
    return run % 2 == 1


def _replacement(match: re.Match[bytes]) -> bytes | None:
    one = match["one"]
    if one is None:
        return None  # a valid surrogate pair: ordinary text
    code = int(one, 16)
    if 0xD800 <= code <= 0xDFFF:
        return _MARK_ESCAPE + one.lower()
    if code == 0xFDD0:
        return _MARK_ESCAPE + _MARK_ESCAPE
    return None


def restore(text: str) -> str:
    """Undo the marker of :class:`ShieldedStream` in one parsed string: lone surrogates come back."""
    if MARK not in text:
        return text
    return _MARKED.sub(_unmark, text)


def _unmark(match: re.Match[str]) -> str:
    value = match[1]
    return MARK if value == MARK else chr(int(value, 16))


def restore_deep(value: object) -> object:
    """:func:`restore` applied to every string, key included, of a parsed JSON value."""
    if isinstance(value, str):
        return restore(value)
    if isinstance(value, dict):
        return {restore(str(k)): restore_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_deep(v) for v in value]
    return value


def show_escapes(text: str) -> str:
    """`text` with every surrogate written as its ``\\udcXX`` escape, for humans and logs."""
    return _SURROGATES.sub(lambda m: "".join(f"\\u{ord(c):04x}" for c in m[0]), text)


def repair_text(text: str) -> tuple[str, str | None]:
    """The repaired text and the encoding used ('utf-8' or 'mac_roman'), or None if nothing to do."""
    if _SURROGATES.search(text) is None:
        return text, None
    encodings: set[str] = set()

    def decode(match: re.Match[str]) -> str:
        decoded, encoding = _decode_run(match[0])
        encodings.add(encoding)
        return decoded

    repaired = _SURROGATES.sub(decode, text)
    if len(encodings) > 1:
        raise Unrepairable("it mixes UTF-8 and Mac OS Roman byte runs")
    return repaired, encodings.pop()


def _decode_run(run: str) -> tuple[str, str]:
    for char in run:
        code = ord(char)
        if 0xDC00 <= code < 0xDC80:
            raise Unrepairable(f"\\u{code:04x} would be the byte 0x{code - 0xDC00:02X}, below 0x80")
        if not 0xDC80 <= code <= 0xDCFF:
            raise Unrepairable(f"\\u{code:04x} is a lone surrogate, not an escaped byte")
    data = bytes(ord(char) - 0xDC00 for char in run)
    try:
        decoded, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        decoded, encoding = data.decode("mac_roman"), "mac_roman"
    for char in decoded:
        if unicodedata.category(char)[0] not in _PRINTABLE:
            shown = " ".join(f"0x{byte:02X}" for byte in data)
            raise Unrepairable(
                f"the bytes {shown} decode ({encoding}) to U+{ord(char):04X}, not a printable character"
            )
    return decoded, encoding
