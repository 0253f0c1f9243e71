"""Reading suite.json and turning gamectl's connection options into a client."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gamectl.certs import DevPki
from gamectl.commands.connection import common_options, open_client, resource_name
from games.catalog.v1 import catalog_pb2 as cpb
from gamesclient import SuiteError, load_suite, platform_value
from gamesclient.channel import AuthInterceptor


def write_suite(root: Path, **overrides: object) -> Path:
    data: dict[str, object] = {
        "gateway": "127.0.0.1:50051",
        "catalog": "127.0.0.1:50061",
        "ingestion": "127.0.0.1:50071",
        "ca": ".local/certs/ca.pem",
        "client_cert": ".local/certs/operator.pem",
        "client_key": ".local/certs/operator.key",
        "api_keys": {"admin": "admin-secret", "reader": "reader-secret\n"},
        **overrides,
    }
    path = root / ".local" / "suite.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_suite_paths_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path))
    assert suite.address() == "127.0.0.1:50051"
    assert suite.address("catalog") == "127.0.0.1:50061"
    assert suite.ca_file == tmp_path.resolve() / ".local/certs/ca.pem"
    assert suite.client_key == tmp_path.resolve() / ".local/certs/operator.key"
    assert suite.api_key("reader") == "reader-secret", "keys are trimmed"
    assert suite.api_key("literal-key") == "literal-key"


def test_suite_problems_are_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"no suite file at .*make up"):
        load_suite(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(tmp_path / "bad.json")
    no_gateway = load_suite(write_suite(tmp_path, gateway=None))
    with pytest.raises(SuiteError, match="names no gateway address"):
        no_gateway.address("gateway")
    with pytest.raises(SuiteError, match="api_keys"):
        load_suite(write_suite(tmp_path, api_keys=["x"]))


def parse(*argv: str) -> argparse.Namespace:
    return common_options().parse_args(list(argv))


def test_options_fall_back_to_the_suite_and_need_ca_and_target_without_one(
    tmp_path: Path, dev_pki: DevPki
) -> None:
    with pytest.raises(SuiteError, match="no suite file"):
        open_client(parse("--suite", str(tmp_path / "none.json")))
    args = parse("--target", "127.0.0.1:1", "--ca", str(dev_pki.ca_file))
    args.root = tmp_path
    with open_client(args) as client:
        assert client.catalog is not None
    with pytest.raises(SuiteError, match="together"):
        open_client(parse("--target", "x:1", "--ca", str(dev_pki.ca_file), "--tls-cert", "a.pem"))
    missing_ca = parse("--target", "127.0.0.1:1", "--ca", str(tmp_path / "nope.pem"))
    missing_ca.root = tmp_path
    with pytest.raises(ValueError, match="cannot read the CA file"):
        open_client(missing_ca)


def test_interceptor_rejects_keys_that_would_break_the_header() -> None:
    with pytest.raises(ValueError, match="whitespace"):
        AuthInterceptor("two words", 5.0)


def test_names_and_platforms() -> None:
    assert resource_name("12", "games") == "games/12"
    assert resource_name("games/12", "games") == "games/12"
    assert platform_value("ios") == cpb.PLATFORM_IOS
    assert platform_value("PLATFORM_ANDROID") == cpb.PLATFORM_ANDROID
    assert platform_value(None) == cpb.PLATFORM_UNSPECIFIED
    assert platform_value(cpb.PLATFORM_IOS) == cpb.PLATFORM_IOS
    with pytest.raises(ValueError, match="unknown platform"):
        platform_value("windows")
