"""Run-failure alerts posted to a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from gamectl.net import free_port
from ingestion.model import Run, RunState, RunTrigger
from ingestion.runs.alerts import notify_run_failed
from tests.fixtures.webhook import WEBHOOK_PATH


def count(outcome: str) -> float:
    return REGISTRY.get_sample_value("ingestion_alerts_total", {"outcome": outcome}) or 0.0


FAILED_RUN = Run(
    id=42,
    trigger=RunTrigger.SCHEDULE,
    state=RunState.FAILED,
    start_time=datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
    end_time=datetime(2026, 11, 23, 6, 5, tzinfo=UTC),
    files_imported=3,
    files_skipped=1,
    files_failed=2,
    records_imported=580,
    records_repaired=4,
    records_quarantined=7,
    failures=(
        ("2026-11-22/ios.top100.json", "truncated JSON at byte 1234"),
        ("2026-11-23/android.top100.json.gz", "catalog UNAVAILABLE after 5 tries"),
    ),
)


def test_posts_a_slack_compatible_summary(webhook):
    sent_before = count("sent")

    notify_run_failed(webhook.url, FAILED_RUN)

    assert count("sent") == sent_before + 1
    [request] = webhook.received
    assert request.path == WEBHOOK_PATH
    assert request.headers["Content-Type"].startswith("application/json")
    payload = json.loads(request.body)
    text = payload["text"]
    assert text.startswith(
        "Ingestion run runs/42 failed: 2 file(s) failed, 0 rejected, 3 imported, 7 record(s) quarantined"
    )
    assert "2026-11-22/ios.top100.json: truncated JSON at byte 1234" in text
    assert "2026-11-23/android.top100.json.gz: catalog UNAVAILABLE" in text
    assert payload["run"] == "runs/42"
    assert payload["state"] == "failed"
    assert payload["trigger"] == "schedule"
    assert payload["files_failed"] == 2
    assert payload["records_quarantined"] == 7
    assert payload["failures"][0] == {
        "key": "2026-11-22/ios.top100.json",
        "reason": "truncated JSON at byte 1234",
    }
    fields = {f["title"]: f["value"] for f in payload["attachments"][0]["fields"]}
    assert fields["files imported"] == "3"


def test_long_failure_lists_are_cut_and_secrets_in_reasons_hidden(webhook):
    failures = tuple((f"key-{n}.json", "x" * 500) for n in range(15))
    leaky = (
        "leak.json",
        "GET https://AKIAEXAMPLE:hunter2@s3.example/b/k?X-Amz-Signature=deadbeef&x=1 failed",
    )
    error = "catalog at postgres://app:pw123@db:5432 down"
    run = replace(FAILED_RUN, failures=(leaky, *failures), error=error)

    notify_run_failed(webhook.url, run)

    text = json.loads(webhook.received[0].body)["text"]
    for secret in ("hunter2", "AKIAEXAMPLE", "deadbeef", "pw123"):
        assert secret not in text
    assert "… and 6 more" in text
    assert max(len(line) for line in text.splitlines()) < 260


def test_any_object_works_with_defaults(webhook):
    notify_run_failed(webhook.url, object())

    payload = json.loads(webhook.received[0].body)
    assert payload["text"].startswith("Ingestion run ? failed: 0 file(s) failed")


def test_http_error_is_logged_not_raised(webhook, caplog):
    webhook.status = 500
    failed_before = count("failed")

    with caplog.at_level(logging.WARNING, logger="ingestion.runs.alerts"):
        notify_run_failed(webhook.url, FAILED_RUN)

    assert count("failed") == failed_before + 1
    assert "HTTP 500" in caplog.text
    assert "s3cr3tT0ken" not in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}",  # nothing listens there
        f"file:///etc/passwd{WEBHOOK_PATH}",
        f"not a url{WEBHOOK_PATH}",
        f"http://[::1{WEBHOOK_PATH}",
        "",
    ],
    ids=["unreachable", "file-scheme", "garbage", "bad-ipv6", "empty"],
)
def test_unusable_url_does_not_raise(url, caplog):
    failed_before = count("failed")

    with caplog.at_level(logging.WARNING, logger="ingestion.runs.alerts"):
        notify_run_failed(url, FAILED_RUN, timeout=2)

    assert count("failed") == failed_before + 1
    assert "s3cr3tT0ken" not in caplog.text


def test_a_webhook_that_never_answers_times_out():
    # A listening socket nobody accepts from: the connection opens, the answer never comes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}{WEBHOOK_PATH}"
        failed_before = count("failed")

        notify_run_failed(url, FAILED_RUN, timeout=0.5)

        assert count("failed") == failed_before + 1
