"""A short message to a Slack-compatible webhook when an ingestion run fails.

A run fails when it fails or rejects a file; a rejected file is never taken again, so it is said in
one message only.

Best effort: an alert that cannot be sent is logged and counted in `ingestion_alerts_total{outcome}`,
never raised, so a broken webhook cannot fail a run. The webhook URL is itself a secret (Slack puts
its token in the path), so it is never logged; only its host is.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import Counter

_log = logging.getLogger(__name__)

ALERTS = Counter("ingestion_alerts_total", "Run-failure alerts posted to the webhook.", ["outcome"])
for _outcome in ("sent", "failed"):
    ALERTS.labels(_outcome)  # both series exist from the start, so an alert on `failed` can fire

MAX_LISTED_FAILURES = 10
MAX_REASON_CHARS = 200

# Failure reasons come from exception text, which may quote a URL with credentials in it.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+(?::[^/\s@]*)?@")
_SIGNED_QUERY = re.compile(r"(?i)([?&](?:X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId|token|key)=)[^&\s]+")


def notify_run_failed(url: str, run: object, *, timeout: float = 5.0) -> None:
    """POST a Slack-compatible summary of the failed `run` to `url`; log and count, never raise."""
    host = _host(url)
    try:
        body = json.dumps(build_message(run)).encode("utf-8")
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("the webhook URL must be http:// or https://")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        _failed(host, f"HTTP {exc.code}")
    except Exception as exc:
        # Anything at all: the alert is a side channel of a run that already failed.
        _failed(host, f"{type(exc).__name__}: {_without(_reason_text(exc), url)}")
    else:
        ALERTS.labels("sent").inc()
        _log.info("run-failure alert sent to %s", host)


def build_message(run: object) -> dict[str, Any]:
    """The webhook payload for a failed run: `text` for any Slack-compatible receiver, plus fields."""
    name = str(getattr(run, "name", "") or getattr(run, "id", "") or "?")
    state = _state(getattr(run, "state", "failed"))
    counts = {
        "files_imported": _int(run, "files_imported"),
        "files_skipped": _int(run, "files_skipped"),
        "files_failed": _int(run, "files_failed"),
        "files_rejected": _int(run, "files_rejected"),
        "records_imported": _int(run, "records_imported"),
        "records_repaired": _int(run, "records_repaired"),
        "records_quarantined": _int(run, "records_quarantined"),
    }
    failures = _failures(getattr(run, "failures", ()))
    lines = [
        f"Ingestion run {name} {state}: {counts['files_failed']} file(s) failed, "
        f"{counts['files_rejected']} rejected, {counts['files_imported']} imported, "
        f"{counts['records_quarantined']} record(s) quarantined."
    ]
    error = _reason_text(getattr(run, "error", "") or "")
    if error:
        lines.append(f"Error: {error}")
    lines += [f"• {key}: {reason}" for key, reason in failures[:MAX_LISTED_FAILURES]]
    if len(failures) > MAX_LISTED_FAILURES:
        lines.append(f"… and {len(failures) - MAX_LISTED_FAILURES} more")
    return {
        "text": "\n".join(lines),
        "run": name,
        "state": state,
        "trigger": _state(getattr(run, "trigger", "")),
        "error": error,
        **counts,
        "failures": [{"key": key, "reason": reason} for key, reason in failures[:MAX_LISTED_FAILURES]],
        # Slack's legacy attachment fields: shown as a small table by Slack and Mattermost alike.
        "attachments": [
            {
                "color": "danger",
                "fields": [
                    {"title": title.replace("_", " "), "value": str(value), "short": True}
                    for title, value in counts.items()
                ],
            }
        ],
    }


def _int(run: object, name: str) -> int:
    value = getattr(run, name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _state(value: object) -> str:
    # An enum (RunState, RunTrigger) reads better by its value than by its repr.
    for attribute in ("value", "name"):
        inner = getattr(value, attribute, None)
        if isinstance(inner, str):
            return inner.lower()
    return str(value).lower()


def _failures(value: object) -> list[tuple[str, str]]:
    """(key, reason) pairs from `run.failures`, whichever shape they have; reasons shortened and cleaned."""
    if not isinstance(value, list | tuple):
        return []
    pairs: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, list | tuple) and len(item) == 2:
            key, reason = item
        else:
            key, reason = getattr(item, "key", item), getattr(item, "reason", "")
        pairs.append((str(key), _reason_text(reason)))
    return pairs


def _reason_text(reason: object) -> str:
    text = _SIGNED_QUERY.sub(r"\1***", _URL_CREDENTIALS.sub(r"\g<scheme>***@", str(reason)))
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def _without(text: str, url: str) -> str:
    """`text` with the webhook URL and its path (where the token lives) blanked out."""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    secrets = [url, path]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "<webhook>")
    return text


def _failed(host: str, reason: str) -> None:
    ALERTS.labels("failed").inc()
    _log.warning("could not send the run-failure alert to %s: %s", host, reason)
