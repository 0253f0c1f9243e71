pytest_plugins = ["tests.fixtures.pki", "tests.fixtures.postgres", "tests.fixtures.catalog"]
