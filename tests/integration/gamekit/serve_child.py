"""A service process for the SIGTERM test: FakeCatalog served by gamekit's `serve` from env settings."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from gamekit.observability.logs import configure_logging
from gamekit.serving.host import serve
from gamekit.serving.options import HostOptions
from gamekit.settings import ServiceSettings, load_settings
from tests.integration.gamekit.conftest import POLICY
from tests.integration.gamekit.servicers import SERVICE, FakeCatalog, register


class ChildSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FAKE_")


def main() -> int:
    settings = load_settings(ChildSettings)
    configure_logging("fake", settings.log_level)
    return serve(
        settings, [(SERVICE, register(FakeCatalog()))], POLICY, options=HostOptions(readiness_interval=0.1)
    )


if __name__ == "__main__":
    raise SystemExit(main())
