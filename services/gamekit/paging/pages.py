"""Pages bounded by bytes as well as by count, for every listing of every service.

A response must fit the receive limit of whoever reads it: 4 MiB, gRPC's default for every client and
what the channels of gamekit.clients.channels (the gateway's to its backends) accept. So a page ends at
the caller's page_size or before the item that would take the items past the byte budget, whichever comes
first, and its next_page_token resumes at that item: every item is read exactly once, at any page size.
The budget is the message limit less HEADROOM_BYTES for the rest of the response (the token, the
framing).

The first item of a page is always taken, so paging never stalls; each service keeps its largest storable
item far below the budget by its input limits (tests/unit/*/test_largest_items.py prove it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")
KiB = 1024
MiB = 1024 * KiB
# The receive limit of the platform's channels (gamekit.clients.channels), gRPC's default for any caller.
MAX_MESSAGE_BYTES = 4 * MiB
# Room for the next_page_token and the response's other fields, far more than they take.
HEADROOM_BYTES = 64 * KiB
# An item of a repeated message field costs its tag (at most 2 bytes) and its length (at most 5).
_ITEM_FRAMING = 7


@dataclass(frozen=True)
class Rendering(Generic[S, T]):
    """How a listing's items are sent: `render` builds an item's wire form, `size_of` measures that form.

    A listing given one renders each item once, measures what it rendered and returns that: the page's
    messages are built once, not once to measure and again to send.
    """

    render: Callable[[S], T]
    size_of: Callable[[T], int]


def _as_is(item: T) -> T:
    return item


class PageBudget:
    """How many bytes of items one page may carry, and how one item is measured on the wire.

    `size_of` is the transport's measure of an item (its serialized size); the domain only adds up.
    """

    def __init__(self, size_of: Callable[[Any], int], *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes <= HEADROOM_BYTES:
            raise ValueError(f"a message limit must be above the {HEADROOM_BYTES} bytes of headroom")
        self.bytes = max_message_bytes - HEADROOM_BYTES
        self._size_of = size_of

    def take(self, items: Iterable[T], count: int) -> tuple[list[T], bool]:
        """The first items that fit both `count` and the byte budget, and whether any were left over."""
        return self.take_rendered(items, count, Rendering(_as_is, self._size_of))

    def take_rendered(
        self, items: Iterable[S], count: int, rendering: Rendering[S, T]
    ) -> tuple[list[T], bool]:
        """As `take`, but each item rendered once by `rendering`, measured as rendered and kept so."""
        page: list[T] = []
        used = 0
        for item in items:
            if len(page) == count:
                return page, True
            rendered = rendering.render(item)
            used += rendering.size_of(rendered) + _ITEM_FRAMING
            if page and used > self.bytes:
                return page, True
            page.append(rendered)
        return page, False
