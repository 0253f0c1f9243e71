"""What a caller may get back for any request: the codes docs/api.md documents, and nothing internal.

`call_raw` sends bytes as they are to a method (unary or streaming, bounded in time and items) and
`problem` says what is wrong with the answer, or None: a code outside the documented client errors
(INTERNAL, UNKNOWN, UNAVAILABLE, DEADLINE_EXCEEDED...), text that leaks how the server is built
(a traceback, SQL, a path, a host, an exception's class name) anywhere in the status or its details, or
an OK answer that does not parse as the method's response.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

import grpc
from google.protobuf import text_format
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from gamekit.status import error_details

# docs/api.md's client errors ("Errors", the catalog and gateway sections): the caller's own doing.
CLIENT_ERRORS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
# "ImportGames and WatchRevision ... stay internal and answer UNIMPLEMENTED" (docs/api.md, "The gateway").
INTERNAL_ONLY = frozenset({"ImportGames", "WatchRevision"})
STREAM_ITEMS = 3  # responses read from a server stream before it is cancelled

_LONG_STRING = re.compile(r'"(?:[^"\\]|\\.){60,}"')
_LEAKS = [
    re.compile(p)
    for p in (
        r"Traceback \(most recent call last\)",
        r'File "[^"]*", line \d+',
        r"\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|WHERE)\b [^ ]+",
        r"(?i)\b(psycopg|sqlalchemy|postgres(ql)?|asyncpg|ijson|botocore|redis\.exceptions|upb)\b",
        r"\b[A-Z][A-Za-z]*(Error|Exception)\b",
        r"\bException\b",
        r"/[\w.-]+(/[\w.-]+)+\.py\b",
        r"(^|[\s'\"(])/(work|tmp|home|usr|opt|var|etc|root)/",
        r"\b(127\.0\.0\.1|localhost|0\.0\.0\.0)(:\d+)?\b",
        r"\bipv[46]:",
    )
]


@dataclass(frozen=True)
class Answer:
    """How a call ended: its code, the status text and every text field of its google.rpc details."""

    code: grpc.StatusCode
    texts: tuple[str, ...] = ()
    responses: tuple[bytes, ...] = ()


class Sent:
    """The messages of one call to `method`, shown decoded with long strings cut (one can be 5 MiB)."""

    def __init__(self, method: MethodDescriptor, payloads: Sequence[bytes]) -> None:
        self.method = method
        self.payloads = list(payloads)

    def __repr__(self) -> str:
        request_type = GetMessageClass(self.method.input_type)
        return f"Sent({self.method.name}, {[_shown(request_type, p) for p in self.payloads]})"


def _shown(request_type: type[Message], payload: bytes) -> str:
    try:
        message = request_type.FromString(payload)
    except DecodeError:
        return f"{len(payload)} bytes that are no {request_type.__name__}: {payload[:120]!r}"
    text = text_format.MessageToString(message, as_one_line=True, print_unknown_fields=True)
    text = _LONG_STRING.sub(lambda m: f'{m.group(0)[:40]}..." ({len(m.group(0))} characters)', text)
    return f"{len(payload)} bytes: {text[:3000]}"


def _failed(error: grpc.RpcError) -> Answer:
    if not isinstance(error, grpc.Call):
        return Answer(grpc.StatusCode.UNKNOWN, (repr(error),))
    texts = [error.details() or ""]
    try:
        details = error_details(error)
    except ValueError as exc:  # details that contradict the status line
        texts.append(f"undecodable details: {exc}")
    else:
        texts += [details.reason or "", *details.metadata.values()]
        texts += [f"{v.field}: {v.description}" for v in details.field_violations]
    return Answer(error.code(), tuple(texts))


def call_raw(
    channel: grpc.Channel, method: MethodDescriptor, payloads: list[bytes], timeout: float
) -> Answer:
    """Send `payloads` (the first only, unless the method takes a stream) to `method` as they are."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    try:
        if method.client_streaming:
            call = channel.stream_unary(path, request_serializer=None, response_deserializer=None)
            return Answer(grpc.StatusCode.OK, responses=(call(iter(payloads), timeout=timeout),))
        if method.server_streaming:
            stream = channel.unary_stream(path, request_serializer=None, response_deserializer=None)
            responses = stream(payloads[0], timeout=timeout)
            try:
                # A watch streams until cancelled: a few items show it answers; then stop it.
                return Answer(grpc.StatusCode.OK, responses=tuple(islice(responses, STREAM_ITEMS)))
            finally:
                responses.cancel()
        unary = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        return Answer(grpc.StatusCode.OK, responses=(unary(payloads[0], timeout=timeout),))
    except grpc.RpcError as error:
        return _failed(error)


def leaks(text: str, echo: str) -> list[str]:
    """Pieces of `text` that tell how the server is built; what the request itself said (`echo`) aside."""
    found = []
    for pattern in _LEAKS:
        found += [m.group(0) for m in pattern.finditer(text) if m.group(0) not in echo]
    return found


def problem(method: MethodDescriptor, payloads: list[bytes], answer: Answer) -> str | None:
    """What is wrong with `answer` to `payloads`, or None when a caller got a documented answer."""
    code = answer.code
    allowed = CLIENT_ERRORS | ({grpc.StatusCode.UNIMPLEMENTED} if method.name in INTERNAL_ONLY else set())
    if code != grpc.StatusCode.OK and code not in allowed:
        return f"{code.name}: {answer.texts[:2]}"
    echo = " ".join(p.decode("utf-8", "replace") for p in payloads)
    found = [piece for text in answer.texts for piece in leaks(text, echo)]
    if found:
        return f"{code.name} leaks {found[:5]}: {answer.texts}"
    response_type = GetMessageClass(method.output_type)
    for response in answer.responses:
        try:
            response_type.FromString(response)
        except DecodeError:
            return f"OK, but the answer is not a {method.output_type.name}: {response[:80]!r}"
    return None
