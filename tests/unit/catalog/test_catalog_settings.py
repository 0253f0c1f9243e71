import pytest
from pydantic import ValidationError

from catalog.settings import CatalogSettings

REQUIRED = {
    "CATALOG_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5999/games",
    "CATALOG_TLS_CERT_FILE": "/certs/tls.crt",
    "CATALOG_TLS_KEY_FILE": "/certs/tls.key",
    "CATALOG_TLS_CA_FILE": "/certs/ca.crt",
}


@pytest.fixture
def env(monkeypatch):
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults(env):
    settings = CatalogSettings()
    assert settings.port == 50061
    assert settings.db_pool_size == 10
    assert settings.db_max_overflow == 5
    assert settings.default_page_size == 50
    assert settings.max_page_size == 1000
    assert settings.page_token_secret is None
    assert settings.gateway_identities == ["spiffe://games.local/gateway"]
    assert settings.ingestion_identities == ["spiffe://games.local/ingestion"]
    assert settings.request_id_ttl_seconds == 86400


@pytest.mark.parametrize("ttl", ["0", "-1", "2592001", "a day"])
def test_a_request_id_ttl_outside_0_to_30_days_is_refused(env, ttl):
    env.setenv("CATALOG_REQUEST_ID_TTL_SECONDS", ttl)
    with pytest.raises(ValidationError, match="request_id_ttl_seconds"):
        CatalogSettings()


def test_comma_separated_identities_and_secret(env):
    env.setenv("CATALOG_GATEWAY_IDENTITIES", "spiffe://a/gw, spiffe://b/gw")
    env.setenv("CATALOG_PAGE_TOKEN_SECRET", "hunter2")
    settings = CatalogSettings()
    assert settings.gateway_identities == ["spiffe://a/gw", "spiffe://b/gw"]
    assert settings.page_token_secret is not None
    assert settings.page_token_secret.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)


def test_bad_values_are_refused(env):
    env.setenv("CATALOG_GATEWAY_IDENTITIES", "gateway")
    with pytest.raises(ValidationError):
        CatalogSettings()
    env.delenv("CATALOG_GATEWAY_IDENTITIES")
    env.delenv("CATALOG_DATABASE_URL")
    with pytest.raises(ValidationError):
        CatalogSettings()
