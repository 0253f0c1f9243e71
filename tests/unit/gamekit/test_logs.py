"""JSON log lines: one object per line, with trace, span and request ids when there are some."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from gamekit.call_context import call_scope
from gamekit.observability.logs import configure_logging, flush_logs

log = logging.getLogger("tests.gamekit.logs")


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = configure_logging("demo", "INFO", stream=stream)

    def read() -> list[dict[str, object]]:
        flush_logs()  # lines are written by a background thread
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    logging.getLogger().removeHandler(handler)


def test_plain_line_has_the_basics_and_no_ids(lines):
    log.info("hello %s", "world", extra={"fields": {"game": "games/1"}})
    (line,) = lines()
    assert line["message"] == "hello world"
    assert (line["level"], line["service"], line["logger"], line["game"]) == (
        "INFO",
        "demo",
        "tests.gamekit.logs",
        "games/1",
    )
    assert "trace_id" not in line
    assert "request_id" not in line


def test_line_carries_trace_span_and_request_ids(lines):
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span, call_scope("req-1"):
        log.warning("inside")
    (line,) = lines()
    context = span.get_span_context()
    assert line["trace_id"] == trace.format_trace_id(context.trace_id)
    assert line["span_id"] == trace.format_span_id(context.span_id)
    assert line["request_id"] == "req-1"


def test_exception_text_is_in_the_line(lines):
    try:
        raise ValueError("broken thing")
    except ValueError:
        log.exception("failed")
    (line,) = lines()
    assert "ValueError: broken thing" in line["exception"]


def test_configuring_twice_does_not_double_lines(lines):
    handler = configure_logging("demo", "INFO", stream=io.StringIO())
    try:
        log.info("once")
        assert lines() == []  # the second configuration replaced the first
    finally:
        logging.getLogger().removeHandler(handler)


def test_lines_are_written_in_order_by_the_background_writer(lines):
    for n in range(600):  # more than one batch
        log.info("line %d", n)
    assert [line["message"] for line in lines()] == [f"line {n}" for n in range(600)]


def test_ids_are_those_of_the_thread_that_logged(lines):
    # The writer formats later, on its own thread: the ids must be taken when the record is queued.
    with call_scope("req-queued"):
        log.info("inside")
    log.info("outside")
    inside, outside = lines()
    assert inside["request_id"] == "req-queued"
    assert "request_id" not in outside


LOGGING_PROCESS = """
import logging, sys
from gamekit.observability.logs import configure_logging, flush_logs
configure_logging("worker-" + sys.argv[1])
log = logging.getLogger("load")
for n in range(4000):
    log.info("line %d of a process sharing stdout %s", n, "x" * 200)
flush_logs()
"""


def test_processes_sharing_one_stdout_pipe_never_split_each_others_lines():
    # The processes of one pod (gamekit.serving.workers) write to the same pipe; every line must stay whole.
    read_end, write_end = os.pipe()
    writers = [
        subprocess.Popen([sys.executable, "-c", LOGGING_PROCESS, str(n)], stdout=write_end) for n in range(3)
    ]
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        received = pipe.read().decode().splitlines()
    assert [w.wait(60) for w in writers] == [0, 0, 0]
    parsed = [json.loads(line) for line in received]
    assert len(parsed) == 3 * 4000
    assert {p["service"] for p in parsed} == {"worker-0", "worker-1", "worker-2"}
