"""The shape of a delivery, checked on its bytes before the parser builds anything from them.

:func:`ingestion.parsing.records.parse_delivery` has ijson build one element of one rank group at a time, so
ijson alone no longer sees the groups: a group that is an object would import nothing (or, with a
member named ``item``, be misread as apps), and one huge value would be built whole before anything
could refuse it. :class:`ShapeGuard` sits in the read path, between the repair shield and ijson, and
raises :class:`WrongShape` as soon as the bytes prove that the top level is not an array, a group
(depth-1 value) is an object, values nest more than :data:`MAX_DEPTH` deep, or one element of a group
(an app object or anything else), or one string or number, spans more than :data:`MAX_VALUE_BYTES`.

It runs at C speed, with no Python loop per byte or per string. Per chunk, one ``bytes.translate``
keeps quotes, brackets, backslashes and the letter n: keeping "n" keeps the common escape ``\\n``
whole, so a backslash next to a quote or a backslash there is nearly always a real ``\\"`` or
``\\\\``, and only then is the chunk searched for those and they are dropped (``bytes.replace``
pairs a backslash run from its left, as JSON does). In a run of k quotes lie k // 2 pairs ``""``: when
the pairs account for every quote (bar a last odd run, a string running on), no string holds a
bracket and every bracket left is structural; otherwise dropping adjacent quote pairs, which never
changes whether a bracket has an odd number of quotes before it, and one ``re.sub`` leave those. A
walk over the brackets skips whole values with one regex match each. An unterminated string or an
odd backslash run at the end of a chunk is carried to the next as a flag, never by keeping bytes, so
a 60 MB string costs what any 60 MB does. A value is refused in a read that holds nothing but it,
once it has run past the bound from the end of the read in which it began: at most two reads (128
KiB) late, never early. When the walk finds a fault, an exact replay of the chunk finds its byte, and
the parser is handed everything before it first, so a file that is not even JSON is reported as such.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["MAX_DEPTH", "MAX_VALUE_BYTES", "ShapeGuard", "WrongShape"]

# Real app objects are a few KB; parsed, a value costs up to ~25 times its JSON, so this bounds memory.
MAX_VALUE_BYTES = 2**20
# Real deliveries nest 4 deep (file, group, app, list); deeper nesting only costs memory and recursion.
MAX_DEPTH = 64

_QUOTE, _BRACE, _BRACKET, _BACKSLASH, _N = ord('"'), ord("{"), ord("["), ord("\\"), ord("n")
_OPENERS = b"[{"
_NOT_MARKS = bytes(sorted(set(range(256)) - set(b'"[]{}\\n')))
_BARE = b" \t\r\n,[]"
_TOP_LEVEL = {ord("{"): "an object", ord('"'): "a string", ord("t"): "a boolean", ord("f"): "a boolean"}
_TOP_LEVEL |= {ord("n"): "null"} | {c: "a number" for c in b"-0123456789"}
_ELEMENT = {_BRACE: "an app object", _BRACKET: "an array in a group"}

# The only escapes that change where a string ends.
_ESCAPES = re.compile(rb'\\["\\]')
# A string still holding brackets once the quote pairs are gone.
_STRING = re.compile(rb'"[^"]*"')
# The exact replay: a bracket, or a string that may run past the end of the chunk.
_TOKEN = re.compile(rb'[\[\]{}]|"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_STRING_END = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _nested(height: int) -> bytes:
    """A regex for one balanced run of brackets at most `height` deep (re has no recursion).

    Greedy, never possessive: Python 3.11 before 3.11.5 (Debian bookworm's 3.11.2 among them) let a
    possessive repeat of these groups match an unclosed tail (measured: every sample delivery refused
    as "a group is an object" in a container). Every match is still balanced, whatever backtracking
    does, since each alternative is an opener, balanced values and a closer.
    """
    value = rb"(?:[\[{][\]}])"  # grouped, so that a repeat below repeats the pair, not its closer
    for _ in range(height - 1):
        value = rb"(?:[\[{]" + value + rb"*[\]}])"
    return value


_HEIGHT = 8  # app objects are 2 deep; deeper values are walked bracket by bracket
_VALUES = re.compile(_nested(_HEIGHT) + rb"*")
_GROUPS = re.compile(rb"(?:\[" + _nested(_HEIGHT - 1) + rb"*[\]}])*")


class WrongShape(Exception):
    """The bytes are not a delivery's shape; `offset` is the byte where that shows (None: the start)."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


class _Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


class ShapeGuard:
    """A binary stream over `stream` that raises WrongShape as soon as its bytes have the wrong shape."""

    def __init__(self, stream: _Readable, *, max_value_bytes: int = MAX_VALUE_BYTES) -> None:
        self._stream = stream
        self.max_value_bytes = max_value_bytes
        self.offset = 0  # bytes handed on
        self.first = 0  # the first non-whitespace byte, 0 until seen
        self.bare = True  # only brackets, commas and whitespace so far: no value but groups
        self._depth = 0  # brackets open
        self._in_string = False
        self._escaped = False  # the next chunk's first byte is escaped by this one's last backslash
        self._element = 0  # the opening bracket of the group element last begun
        self._anchor = 0  # a byte by which every value still open had begun
        self._pending: WrongShape | None = None

    def read(self, size: int = -1) -> bytes:
        """The stream's next bytes, checked; possibly fewer, when a fault follows them."""
        if self._pending is not None:
            raise self._pending
        data = self._stream.read(size)
        if data:  # b"": the end, or ijson's read(0) probe
            cut = self._check(data)
            if cut is not None:
                data = data[:cut]
            self.offset += len(data)
        return data

    def _check(self, data: bytes) -> int | None:
        """Follow `data`; the length to hand on before a fault, or None for all of it."""
        if not self.first:
            self._top_level(data)
        if self.bare and data.translate(None, _BARE):
            self.bare = False
        start = (self._depth, self._in_string, self._escaped)
        work = data[1:] if self._escaped else data
        self._escaped = False
        if work.endswith(b"\\") and (len(work) - len(work.rstrip(b"\\"))) % 2:
            work, self._escaped = work[:-1], True
        # Quotes, brackets, backslashes and "n" (which keeps "\\n" whole: see the module docstring).
        marks = work.translate(None, _NOT_MARKS)
        if _BACKSLASH in marks:
            if _ESCAPES.search(marks) is not None and _ESCAPES.search(work) is not None:
                # JSON pairs a backslash run from its left, as replace does; the last odd one was cut.
                work = work.replace(b"\\\\", b"").replace(b'\\"', b"")
                marks = work.translate(None, _NOT_MARKS)
            marks = marks.translate(None, b"\\n")
        elif _N in marks:
            marks = marks.translate(None, b"n")
        quoted = _QUOTE in marks
        if quoted or self._in_string:
            marks = self._outside_strings(b'"' + marks if self._in_string else marks)
        low, fault = self._walk(marks)
        if fault >= 0:
            return self._defer(data, start)
        if marks:
            touched = low <= 2
        else:
            # Constant depth: a value ended here unless the chunk is one string, number or literal.
            touched = self._depth <= 2 and (
                quoted or (not self._in_string and (b"," in work or not work.strip()))
            )
        end = self.offset + len(data)
        if touched:
            self._anchor = end
        elif end - self._anchor > self.max_value_bytes:
            # One more read of it is cheap, and lets ijson say first if the bytes are not even JSON.
            self._pending = WrongShape(self._too_large(), self._anchor)
        return None

    def _defer(self, data: bytes, start: tuple[int, bool, bool]) -> int:
        """Find the fault in `data` by an exact replay; hand on what precedes it, refuse at the next read."""
        found = _locate(data, *start)
        if found is None:
            # Both readings agree on every valid JSON text: this one is not, and ijson will say where.
            self._pending = WrongShape("the bytes are not JSON (a backslash outside a string?)", self.offset)
            return len(data)
        cut, reason = found
        self._pending = WrongShape(reason, self.offset + cut)
        if not cut:
            raise self._pending
        return cut

    def _outside_strings(self, marks: bytes) -> bytes:
        """The brackets of `marks` (quotes and brackets, from outside a string) that are outside strings."""
        brackets = marks.translate(None, b'"')
        last = max(marks.rfind(b"["), marks.rfind(b"]"), marks.rfind(b"{"), marks.rfind(b"}"))
        odd = (len(marks) - 1 - last) % 2  # the last run of quotes: odd when a string runs on
        # n quotes in a row hold n // 2 pairs: if every run between two brackets is even, no string holds
        # a bracket, and only the last run may be odd (a string running into the next chunk).
        if 2 * marks.count(b'""') == len(marks) - len(brackets) - odd:
            self._in_string = odd == 1
            return brackets
        # Dropping adjacent quotes keeps every bracket's parity; then strings holding brackets go whole.
        marks = _STRING.sub(b"", marks.replace(b'""', b""))
        self._in_string = _QUOTE in marks
        return marks[: marks.index(b'"')] if self._in_string else marks

    def _top_level(self, data: bytes) -> None:
        text = data.lstrip()
        if not text:
            return
        self.first = text[0]
        # Parsed as items of "item.item", a top-level object would yield the members of its "item".
        shape = _TOP_LEVEL.get(self.first)
        if shape is not None:
            raise WrongShape(
                f"the top level is {shape}, expected an array of rank groups (arrays of app objects)"
            )

    def _walk(self, marks: bytes) -> tuple[int, int]:
        """Follow the brackets outside strings: (the lowest depth reached, the first fault's index or -1)."""
        depth = low = self._depth
        i, end = 0, len(marks)
        while i < end:
            # Whole groups, or whole values inside one, in one C call each.
            if depth == 1:
                i = _GROUPS.match(marks, i).end()  # type: ignore[union-attr]  # * always matches
            elif depth >= 2 and depth + _HEIGHT <= MAX_DEPTH:
                i = _VALUES.match(marks, i).end()  # type: ignore[union-attr]
            if i == end:
                break
            byte = marks[i]
            if byte in _OPENERS:
                if (depth == 1 and byte == _BRACE) or depth >= MAX_DEPTH:
                    return low, i
                if depth == 2:
                    self._element = byte
                depth += 1
            elif depth:
                depth -= 1
                low = min(low, depth)
            i += 1
        self._depth = depth
        return low, -1

    def _too_large(self) -> str:
        limit = f"{self.max_value_bytes / 2**20:g} MiB"
        if self._depth >= 3:
            what = _ELEMENT.get(self._element, "a value")
            return f"{what} larger than {limit} of JSON (real app objects are a few KB)"
        if self._in_string:
            return f"a string larger than {limit}"
        return f"a single value larger than {limit} (a number or literal that does not end)"


def _locate(data: bytes, depth: int, in_string: bool, escaped: bool) -> tuple[int, str] | None:
    """Replay `data` exactly from the state it began in: the offset of the first fault and why, if any."""
    pos = 1 if escaped else 0
    if in_string:
        rest = _STRING_END.match(data, pos)
        pos = len(data) if rest is None else rest.end()
    for token in _TOKEN.finditer(data, pos):
        at = token.start()
        byte = data[at]
        if byte in _OPENERS:
            if depth == 1 and byte == _BRACE:
                return at, "a group is an object, expected an array of app objects"
            if depth >= MAX_DEPTH:
                return at, f"values nest more than {MAX_DEPTH} deep (real deliveries nest 4)"
            depth += 1
        elif byte != _QUOTE and depth:
            depth -= 1
    return None
