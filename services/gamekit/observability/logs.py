"""JSON log lines on stdout, one per record, joined to traces and requests, written off the calling thread.

Every line carries the service, the current trace and span ids (so Grafana jumps from a log line to
its trace) and the request id of the call being handled. Structured values go in `extra={"fields":
{...}}`; exception text is written to the log only, never to a caller.

A call's access line must not hold up its answer: a record is only queued on the calling thread, with
the ids and the message taken there, and a background thread formats the records and writes them, as
many as are waiting in one write (the image runs unbuffered, so a line each would be a syscall each),
within WRITE_INTERVAL_SECONDS; a write is at most what a pipe takes whole, as the processes of one pod
share stdout. The queue is bounded: a writer that cannot keep up (stdout blocked) slows logging
callers down, as a direct write would, instead of growing memory. `flush_logs()` waits until everything
queued is written; it runs at exit, and `gamekit.serving.host.serve` calls it last.
"""

from __future__ import annotations

import atexit
import datetime
import json
import logging
import math
import queue
import select
import sys
import threading
import time
from typing import Any, TextIO

from opentelemetry import trace

from gamekit.call_context import current_request_id

# Records waiting for the writer; past this, logging callers wait for it.
QUEUE_RECORDS = 10_000
# Records formatted and written together at most.
BATCH_RECORDS = 256
# How long a line may wait in the queue before the writer wakes for it.
WRITE_INTERVAL_SECONDS = 0.05
# The largest write a pipe takes whole (POSIX guarantees 512; Linux gives 4096).
PIPE_BUF = getattr(select, "PIPE_BUF", 512)


_IDS = "_gamekit_ids"


def _trace_ids() -> tuple[str, str] | None:
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return trace.format_trace_id(span.trace_id), trace.format_span_id(span.span_id)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        # json.dumps with options builds an encoder per call; one serves every line.
        self._encode = json.JSONEncoder(default=str, ensure_ascii=False).encode
        self._second: tuple[int, str] = (-1, "")  # the last second formatted, as ISO 8601

    def _time(self, created: float) -> str:
        """`created` in ISO 8601 UTC to the millisecond; the date and time part is formatted once a second."""
        # Rounded to the microsecond first, then cut to the millisecond, as datetime.isoformat does.
        fraction, whole = math.modf(created)
        second, micros = int(whole), round(fraction * 1e6)
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        if self._second[0] != second:
            text = datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{self._second[1]}.{micros // 1000:03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (ids as captured when it was queued, else the current ones)."""
        line: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Taken by _QueueHandler on the thread that logged; read here when formatting on that thread.
        ids, request_id = getattr(record, _IDS, None) or (_trace_ids(), current_request_id())
        if ids is not None:
            line["trace_id"], line["span_id"] = ids
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({key: value for key, value in fields.items() if key not in line})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return self._encode(line)


class _QueueHandler(logging.Handler):
    """Queues records for the writer, with what only the calling thread knows (its ids, its message)
    taken first: logging.handlers.QueueHandler's idea, with a queue that wakes its reader less often."""

    def __init__(self, writer: _Writer, formatter: JsonFormatter) -> None:
        super().__init__()
        self._writer = writer
        self._json = formatter

    def emit(self, record: logging.LogRecord) -> None:
        """Take the record's ids and message, then queue it."""
        try:
            self._writer.put(self.prepare(record))
        except Exception:
            self.handleError(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The record, its ids and message taken on this thread; the rest is formatted by the writer."""
        setattr(record, _IDS, (_trace_ids(), current_request_id()))
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            # The traceback's frames are this thread's: render them here and let them go.
            record.exc_text = self._json.formatException(record.exc_info)
            record.exc_info = None
        return record


def _pipe_sized(lines: list[str]) -> list[str]:
    """`lines` joined into writes of at most PIPE_BUF bytes, a line never split between two.

    A pipe takes a write of up to PIPE_BUF bytes whole: the processes of one pod (gamekit.serving.workers)
    share its stdout, and a longer write could be interleaved with another process's lines. A line
    longer than that is written on its own.
    """
    chunks: list[str] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode())
        if chunk and size + length > PIPE_BUF:
            chunks.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += length
    if chunk:
        chunks.append("".join(chunk))
    return chunks


# What the writer's queue holds: records, and the events of flush_logs() and stop() to set when reached.
_Item = logging.LogRecord | threading.Event


class _Writer:
    """The thread that formats queued records and writes them to the stream, a batch per write.

    It wakes every WRITE_INTERVAL_SECONDS (or when flushed) and drains the queue, rather than once per
    record: waking a thread per line would cost every call a thread switch and a turn of the GIL.
    """

    def __init__(self, handler: logging.StreamHandler[TextIO]) -> None:
        self._items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._handler = handler
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def put(self, record: logging.LogRecord) -> None:
        """Queue `record`; past QUEUE_RECORDS waiting, wait for the writer first (stdout is blocked)."""
        if not self._thread.is_alive():
            self.write([record])
            return
        while self._items.qsize() >= QUEUE_RECORDS and self._thread.is_alive():
            self._wake.set()
            time.sleep(0.001)
        self._items.put(record)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(WRITE_INTERVAL_SECONDS)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        batch: list[logging.LogRecord] = []
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, threading.Event):
                self.write(batch)
                batch = []
                item.set()
                continue
            batch.append(item)
            if len(batch) >= BATCH_RECORDS:
                self.write(batch)
                batch = []
        self.write(batch)

    def write(self, records: list[logging.LogRecord]) -> None:
        """Format `records` and write them in one go."""
        handler = self._handler
        lines = []
        for record in records:
            try:
                lines.append(handler.format(record) + handler.terminator)
            except Exception:
                handler.handleError(record)
        if not lines:
            return
        handler.acquire()
        try:
            for chunk in _pipe_sized(lines):
                handler.stream.write(chunk)
                handler.stream.flush()
        except Exception:
            handler.handleError(records[-1])
        finally:
            handler.release()

    def flush(self) -> None:
        """Wait until every record queued so far is written."""
        if not self._thread.is_alive():
            return
        reached = threading.Event()
        self._items.put(reached)
        self._wake.set()
        reached.wait(timeout=10)

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=10)


_writer: _Writer | None = None


def configure_logging(service: str, level: str = "INFO", *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record of the process as JSON lines to stdout (or `stream`) at `level`."""
    global _writer
    formatter = JsonFormatter(service)
    output: logging.StreamHandler[TextIO] = logging.StreamHandler(stream or sys.stdout)
    output.setFormatter(formatter)
    root = logging.getLogger()
    # Replace, not add: calling this twice (tests, re-configuration) must not double every line.
    for old in list(root.handlers):
        if isinstance(old, _QueueHandler):
            root.removeHandler(old)
    _stop_writer()
    _writer = _Writer(output)
    handler = _QueueHandler(_writer, formatter)
    root.addHandler(handler)
    root.setLevel(level)
    # What the JSON lines never show, not gathered for every record (logging's documented optimisations):
    # the caller's file and line, the thread's and process's names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    return handler


def flush_logs() -> None:
    """Wait until every record queued so far is written."""
    if _writer is not None:
        _writer.flush()


def _stop_writer() -> None:
    if _writer is not None:
        _writer.stop()


# Registered after logging's own exit hook, so it runs before it: queued lines are written first.
atexit.register(_stop_writer)
