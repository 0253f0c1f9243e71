"""A bad setting stops the process with one line naming the variable."""

from __future__ import annotations

import pytest
from pydantic_settings import SettingsConfigDict

from gamekit.settings import ServiceSettings, load_settings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")


@pytest.fixture
def tls_env(monkeypatch, tmp_path):
    for name in ("CERT", "KEY", "CA"):
        monkeypatch.setenv(f"DEMO_TLS_{name}_FILE", str(tmp_path / name))


def test_good_environment_loads(monkeypatch, tls_env):
    monkeypatch.setenv("DEMO_PORT", "0")
    monkeypatch.setenv("DEMO_GRACE_PERIOD_SECONDS", "2.5")
    settings = load_settings(DemoSettings)
    assert (settings.port, settings.grace_period_seconds) == (0, 2.5)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DEMO_PORT", "not-a-port"), ("DEMO_PORT", "70000"), ("DEMO_LOG_LEVEL", "LOUD")],
)
def test_bad_value_exits_2_with_one_line(monkeypatch, capsys, tls_env, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as caught:
        load_settings(DemoSettings)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert variable in err


def test_missing_required_setting_is_named(monkeypatch, capsys):
    monkeypatch.delenv("DEMO_TLS_CERT_FILE", raising=False)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    assert "DEMO_TLS_CERT_FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        (
            {"DEMO_MAX_HEALTH_REFLECTION_STREAMS": "8", "DEMO_MAX_HEALTH_REFLECTION_STREAMS_PER_PEER": "9"},
            "DEMO_MAX_HEALTH_REFLECTION_STREAMS_PER_PEER",
        ),
        (
            {"DEMO_MAX_CONCURRENT_RPCS": "8", "DEMO_MAX_HEALTH_REFLECTION_STREAMS": "8"},
            "DEMO_MAX_HEALTH_REFLECTION_STREAMS",
        ),
    ],
)
def test_stream_caps_that_cannot_hold_are_named(monkeypatch, capsys, tls_env, variables, named):
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit):
        load_settings(DemoSettings)
    assert capsys.readouterr().err.startswith(f"invalid setting {named}:")
