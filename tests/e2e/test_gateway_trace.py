"""One connected trace from the gateway through the catalog to PostgreSQL, exported over OTLP/gRPC.

The suite starts with the standard OTEL_* variables pointing at a receiver this module runs; one
SearchGames through the gateway must then arrive as ONE trace holding the gateway's server span, the
catalog's spans and an SQL statement span, whose parent chain leads back to the gateway's server span.
Tracing must not break what it watches: the gateway still follows the catalog's revision watch.
"""

from __future__ import annotations

import pytest

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.e2e.conftest import E2ESuite, wait_following
from tests.e2e.traces import connected_trace, is_sql
from tests.fixtures.otlp import OtlpReceiver, ReceivedSpan, exporting_to

pytestmark = pytest.mark.slow

SEARCH = "games.catalog.v1.CatalogService/SearchGames"


@pytest.fixture(scope="module")
def suite_environ(receiver: OtlpReceiver) -> dict[str, str]:
    """Export every service's spans to `receiver` (tests/e2e/conftest.py)."""
    return exporting_to(receiver)


def test_one_search_is_one_trace_from_gateway_to_database(
    platform_suite: E2ESuite, receiver: OtlpReceiver
) -> None:
    gateway = platform_suite.service("gateway")
    channel = platform_suite.channel(platform_suite.target(gateway), platform_suite.api_key("reader"))
    reply = cpb_grpc.CatalogServiceStub(channel).SearchGames(
        cpb.SearchGamesRequest(query="trace me"), timeout=10
    )
    assert list(reply.games) == []

    def gateway_search_span(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
        return next(
            (s for s in spans if s.service == "gateway" and s.kind_name == "SERVER" and SEARCH in s.name),
            None,
        )

    root = receiver.wait_for(gateway_search_span)
    try:
        chain = receiver.wait_for(lambda spans: connected_trace(spans, root.trace_id), timeout=10)
    except AssertionError:
        in_trace = [s for s in receiver.spans() if s.trace_id == root.trace_id]
        sql = [s for s in receiver.spans() if is_sql(s)]
        raise AssertionError(
            "no connected trace; in the gateway's trace: "
            + repr([(s.service, s.kind_name, s.name, s.span_id, s.parent_span_id) for s in in_trace])
            + f"; {len(sql)} SQL spans in traces {sorted({s.trace_id for s in sql})[:5]}"
        ) from None

    in_trace = [s for s in receiver.spans() if s.trace_id == root.trace_id]
    assert {s.service for s in in_trace} >= {"gateway", "catalog"}
    assert chain[-1] == root, "the chain ends at the gateway's server span of this call"
    assert [s for s in in_trace if s.parent_span_id == ""] == [root], "one root: the gateway's server span"
    links = [(s.service, s.kind_name) for s in chain]
    print("trace", root.trace_id, " ← ".join(f"{s.service}:{s.kind_name}:{s.name}" for s in chain))
    # SQL ← ... ← catalog server ← gateway client ← gateway server.
    assert ("catalog", "SERVER") in links
    assert ("gateway", "CLIENT") in links
    assert links.index(("catalog", "SERVER")) < links.index(("gateway", "CLIENT"))
    assert chain[0].service == "catalog"


def test_with_tracing_on_the_gateway_still_follows_the_revision_watch(platform_suite: E2ESuite) -> None:
    # The watch is a never-ending stream; traced, the client instrumentation once turned the call into a
    # bare generator and the follower thread died on call.cancel, leaving the cache bypassed for good.
    wait_following(platform_suite.service("gateway"))
