"""JSON log lines on stdout, one per record, joined to traces and requests.

Every line carries the service, the current trace and span ids (so Grafana jumps from a log line to
its trace) and the request id of the call being handled. Structured values go in `extra={"fields":
{...}}`; exception text is written to the log only, never to a caller.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any, TextIO

from opentelemetry import trace

from gamekit.context import current_request_id


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"] = trace.format_trace_id(span.trace_id)
            line["span_id"] = trace.format_span_id(span.span_id)
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO", *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record of the process as JSON lines to stdout (or `stream`) at `level`."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    # Replace, not add: calling this twice (tests, re-configuration) must not double every line.
    for old in list(root.handlers):
        if isinstance(old.formatter, JsonFormatter):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
