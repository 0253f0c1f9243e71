"""Request bytes that are not the method's message: the caller's mistake, answered INVALID_ARGUMENT.

grpcio parses each request before any interceptor sees the call, and answers a parse failure itself:
INTERNAL "Exception deserializing request!", reported as the platform failing, and invisible to the
platform's metrics and access log. So the platform interceptor gives every handler a tolerant parser
that hands such bytes on as `UNPARSEABLE`, and turns that into `MalformedRequest` inside the call,
where it is answered, counted and logged like any other refusal. The reason is MALFORMED_REQUEST,
with no field violations: there are no fields to name. It comes after the access policy but before
the gateway's key check (its gate, run last by the same interceptor), as a parse failure in grpcio
itself would: all a caller without a key learns is that its bytes are not a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from gamekit.errors import InvalidArgument
from gamekit.serving.handlers import Deserializer


class MalformedRequest(InvalidArgument):
    """The request bytes do not parse as the method's request message; there is no field to name."""

    reason = "MALFORMED_REQUEST"

    def __init__(self, method: str) -> None:
        super().__init__([], message=f"the request is not a valid {method} request message")


class _Unparseable:
    """Stands for a request whose bytes did not parse."""

    def __repr__(self) -> str:
        return "UNPARSEABLE"


UNPARSEABLE: Final = _Unparseable()


def tolerant(deserializer: Deserializer | None) -> Deserializer | None:
    """`deserializer`, answering UNPARSEABLE where it would raise (None, bytes as they are, stays None)."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            # Any parse failure of outside bytes is the sender's; the reply says so without detail.
            return UNPARSEABLE

    return deserialize


def parsed(request: Any, method: str) -> Any:
    """`request` itself; MalformedRequest if it did not parse."""
    if request is UNPARSEABLE:
        raise MalformedRequest(method)
    return request


def parsed_stream(requests: Iterable[Any], method: str) -> Iterator[Any]:
    """The request stream, raising MalformedRequest at the first message that did not parse."""
    for request in requests:
        yield parsed(request, method)
