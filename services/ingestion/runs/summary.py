"""The one-screen text summary `ingestion run-once` prints."""

from __future__ import annotations

from ingestion.model import FileOutcome, Outcome, RunSummary

MAX_FILE_LINES = 20
MAX_REASON = 160
_LABELS = {
    Outcome.IMPORTED: "imported",
    Outcome.SKIPPED: "skipped",
    Outcome.FAILED: "FAILED",
    Outcome.REJECTED: "REJECTED",
}
_TROUBLE = (Outcome.FAILED, Outcome.REJECTED)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _file_line(outcome: FileOutcome) -> str:
    if outcome.outcome is Outcome.IMPORTED:
        r = outcome.records
        detail = (
            f"{outcome.catalog_import}: {r.imported} records, {r.repaired} repaired, "
            f"{r.quarantined} quarantined, {r.duplicate} duplicate"
        )
    else:
        detail = outcome.reason
    return f"  {_LABELS[outcome.outcome]:<9} {outcome.source.key}  {_shorten(detail, MAX_REASON)}"


def render(summary: RunSummary) -> str:
    """A few lines: the run, file and record counts, and one line per file (failed and rejected first)."""
    run = summary.run
    seconds = (run.end_time - run.start_time).total_seconds() if run.end_time else 0.0
    lines = [
        f"Ingestion run {run.name} ({run.trigger.value}) {run.state.value} in {seconds:.1f} s",
        f"Files:   {run.files_imported} imported, {run.files_skipped} skipped, {run.files_failed} failed, "
        f"{run.files_rejected} rejected",
        f"Records: {run.records_imported} imported ({run.records_repaired} repaired), "
        f"{run.records_quarantined} quarantined, {run.records_duplicate} duplicate",
    ]
    if run.error:
        lines.append(f"Error:   {_shorten(run.error, MAX_REASON)}")
    ordered = sorted(summary.files, key=lambda o: o.outcome not in _TROUBLE)
    lines += [_file_line(o) for o in ordered[:MAX_FILE_LINES]]
    if len(ordered) > MAX_FILE_LINES:
        lines.append(f"  … and {len(ordered) - MAX_FILE_LINES} more files (see ListFiles)")
    return "\n".join(lines)
