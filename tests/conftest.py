pytest_plugins = [
    "tests.fixtures.pki",
    "tests.fixtures.postgres",
    "tests.fixtures.catalog",
    "tests.fixtures.moto",
    "tests.fixtures.ingestion",
    "tests.fixtures.redis",
    "tests.fixtures.gateway",
    "tests.fixtures.webhook",
]
