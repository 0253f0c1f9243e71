"""`gamectl ingest ...` and `gamectl imports ...` against the real ingestion and catalog over mTLS.

The dev gateway certificate stands in for the gateway (both services let it call everything); the
S3 bucket is moto's, over HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from gamectl.__main__ import main
from gamectl.certs import DevPki
from gamekit.serving.host import ServiceHost
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import StartCatalog
from tests.fixtures.ingestion import ended_run, files_table_held

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def ingestion_target(
    start_catalog: StartCatalog,
    start_ingestion_service: Callable[..., ServiceHost],
    platform_database_url: str,
    bucket: str,
) -> tuple[str, str]:
    """(ingestion target, catalog target): both real, on one database, reading the test's bucket."""
    catalog = start_catalog(platform_database_url)
    # A long lock timeout: a test holds a run at a lock while gamectl follows it.
    ingestion = start_ingestion_service(
        bucket=bucket, catalog_target=catalog.target, db_lock_timeout_seconds=60
    )
    return f"127.0.0.1:{ingestion.port}", catalog.target


def run(capsys: pytest.CaptureFixture[str], pki: DevPki, target: str, *argv: str) -> tuple[int, str, str]:
    """gamectl with explicit connection options (no suite file); exit code, stdout, stderr."""
    cert = pki.certs["gateway"]
    tls = ["--target", target, "--ca", str(pki.ca_file), "--tls-cert", str(cert.cert_file)]
    capsys.readouterr()
    code = main([*argv, *tls, "--tls-key", str(cert.key_file)])
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_reject_read_runs_files_quarantine_accept_and_roll_back(
    ingestion_target: tuple[str, str],
    dev_pki: DevPki,
    s3_client: S3Client,
    bucket: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ingestion, catalog = ingestion_target
    body = delivery([[app(1), {}, app(2)], [app(3), {"app_id": "", "name": "nameless"}]])
    s3_client.put_object(Bucket=bucket, Key="d/ios.top100.json", Body=body)

    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "run")
    assert (code, err) == (1, ""), "2 of 5 records quarantined: the file is rejected, the run failed"
    record = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert (record["state"], record["files rejected"], record["records imported"]) == ("failed", "1", "0")

    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "runs")
    assert (code, err) == (0, "")
    header, row = out.splitlines()
    assert header.split()[:3] == ["NAME", "TRIGGER", "STATE"]
    assert row.split()[1:3] == ["admin", "failed"]
    run_name = row.split()[0]
    code, out, _ = run(capsys, dev_pki, ingestion, "ingest", "runs", run_name, "--json")
    assert json.loads(out)["filesRejected"] == "1"

    code, out, _ = run(capsys, dev_pki, ingestion, "ingest", "files")
    assert "rejected" in out.splitlines()[1]
    assert "2 of 5 records quarantined" in out
    code, out, _ = run(capsys, dev_pki, ingestion, "ingest", "files", "--json")
    (file,) = json.loads(out)
    assert (file["key"], file["state"]) == ("d/ios.top100.json", "FILE_STATE_REJECTED")
    assert file["rejectReason"].startswith("2 of 5 records quarantined (40.0%, more than the 5.0% allowed)")

    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "quarantine", "--file", file["name"])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["FILE", "KEY", "POSITION", "REASON", "RECORD"]
    assert sorted(line.split()[2] for line in lines[1:]) == ["1", "4"]
    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "quarantine", "--limit", "1")
    assert len(out.splitlines()) == 2
    assert err == "(first 1 quarantined records shown; --limit 0 shows all)\n"

    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "accept", file["name"])
    assert (code, err) == (0, "")
    accepted = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert (accepted["state"], accepted["records imported"]) == ("imported", "3")
    assert accepted["accepted by"] == "spiffe://games.local/gateway"
    code, out, err = run(capsys, dev_pki, ingestion, "ingest", "accept", file["name"])
    assert code == 1
    assert err.startswith("error: FAILED_PRECONDITION: ")

    code, out, err = run(capsys, dev_pki, catalog, "imports", "list", "--json")
    (published,) = json.loads(out)
    assert (published["state"], published["createdCount"]) == ("IMPORT_STATE_PUBLISHED", "3")
    code, out, err = run(capsys, dev_pki, catalog, "imports", "rollback", published["name"])
    assert (code, err) == (0, "")
    assert "state           rolled-back" in out.splitlines()
    code, out, err = run(capsys, dev_pki, catalog, "games", "list")
    assert (code, out) == (0, "no games\n")
    code, out, err = run(capsys, dev_pki, catalog, "imports", "rollback", published["name"])
    assert code == 1
    assert err.startswith("error: FAILED_PRECONDITION: ")


def test_ingest_run_follows_the_run_and_says_when_it_is_still_going(
    ingestion_target: tuple[str, str],
    dev_pki: DevPki,
    s3_client: S3Client,
    bucket: str,
    platform_database_url: str,
    channel_as: Callable[[str, str], grpc.Channel],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ingestion, _ = ingestion_target
    s3_client.put_object(Bucket=bucket, Key="d/ios.top100.json", Body=delivery([[app(1), app(2)]]))

    with files_table_held(platform_database_url):  # the run cannot get past its first file meanwhile
        code, out, err = run(capsys, dev_pki, ingestion, "ingest", "run", "--wait", "0.5")
    assert code == 1
    record = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())
    assert record["state"] == "running"
    name = record["name"]
    assert err == f"{name} is still running after 0.5s; `gamectl ingest runs {name}` shows it\n"

    # The run went on after gamectl stopped following it.
    admin = pb_grpc.IngestionServiceStub(channel_as(ingestion, "gateway"))
    ended = ended_run(admin, record["name"])
    assert (ended.state, ended.records_imported) == (pb.RUN_STATE_SUCCEEDED, 2)
