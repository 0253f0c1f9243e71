import os

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

# The monitoring scenario needs Debian's `prometheus` on PATH: `make check-monitoring` installs it and runs
# that folder with GAMES_CHECK_MONITORING=1; `make test` runs everything else.
collect_ignore = [] if os.environ.get("GAMES_CHECK_MONITORING") == "1" else ["e2e/monitoring"]
