"""Resource names of the `collection/{id}` form (AIP-122), read the same way by every service."""

from __future__ import annotations

from gamekit.errors import InvalidArgument


def parse_resource_id(name: str, *, collection: str, field: str) -> int:
    """`games/42` → 42; anything else is INVALID_ARGUMENT on `field`."""
    prefix = f"{collection}/"
    suffix = name[len(prefix) :] if name.startswith(prefix) else ""
    if not suffix.isascii() or not suffix.isdigit() or len(suffix) > 18 or int(suffix) == 0:
        raise InvalidArgument.field(field, f"must be {collection}/{{id}} with a positive integer id")
    return int(suffix)
