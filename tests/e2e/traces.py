"""Reading received spans as traces: a call's chain from its SQL statement up to the gateway."""

from __future__ import annotations

from tests.fixtures.otlp import ReceivedSpan


def is_sql(span: ReceivedSpan) -> bool:
    """A PostgreSQL statement span (old or new database semantic conventions)."""
    system = span.attributes.get("db.system", span.attributes.get("db.system.name"))
    statement = span.attributes.get("db.statement", span.attributes.get("db.query.text"))
    return system == "postgresql" and isinstance(statement, str) and bool(statement.strip())


def ancestry(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """`span` and its parents up to the first one missing from `by_id` (or the root)."""
    chain = [span]
    while chain[-1].parent_span_id in by_id and len(chain) < 50:
        chain.append(by_id[chain[-1].parent_span_id])
    return chain


def connected_trace(spans: list[ReceivedSpan], trace_id: str) -> list[ReceivedSpan] | None:
    """The chain SQL span → ... → gateway server span in `trace_id`, once every link has arrived."""
    in_trace = [s for s in spans if s.trace_id == trace_id]
    by_id = {s.span_id: s for s in in_trace}
    for span in filter(is_sql, in_trace):
        chain = ancestry(span, by_id)
        top = chain[-1]
        if top.service == "gateway" and top.kind_name == "SERVER" and top.parent_span_id == "":
            return chain
    return None
