# The two commands a newcomer needs: `make up` and `make test`. Everything else is a step they call.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup up test test-fast lint fmt protos chart-docs config-docs dashboards buf clean bench images pods fuzz \
	check-monitoring

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

up: setup
	$(BIN)/gamectl up

test: setup lint
	$(BIN)/pytest

# The loop while editing (under a minute): ruff, then the tests that start no server or database:
# unit, contract, fuzz-corpus replay and alert-rule tests. `make test` before you push.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q tests/unit tests/contracts tests/fuzz tests/monitoring

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/buf build
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code

fmt: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/buf format -w

protos: setup
	$(BIN)/python scripts/generate_stubs.py

# Coverage-guided fuzzing (atheris) of the parsers that take outside bytes, FUZZ_SECONDS each: page tokens,
# the keys file, the delivery parser. Reports crashes (kept under build/fuzz/); tests/fuzz/campaign.py says
# more. `make test` replays the kept corpus (tests/fuzz/corpus/) instead. FUZZ_TARGETS="keys" for one.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: setup
	$(BIN)/python -m tests.fuzz.campaign --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Benchmarks (never part of `make test`): installs the `bench` extra, writes bench/results/<date>.json and .md.
bench: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

# The three images from deploy/Dockerfile, with docker where a daemon answers, else podman (run as root;
# docs/deployment.md, "Container images"): built, measured and scanned for secrets by tools/images.py.
images: setup
	$(BIN)/python -m tools.images

# The chart's pods, run by podman as kubelet would run them, then used and stopped (tools/pods).
pods: setup
	$(BIN)/python -m tools.pods

# What SREs see, checked with Prometheus' promtool (from PATH; as root, Debian's `prometheus` package is
# installed when missing): the alert rules linted and unit-tested (tests/monitoring/alerts_test.yaml).
check-monitoring: setup
	$(BIN)/python -m tools.check_monitoring

chart-docs: setup
	$(BIN)/python scripts/chart_values_doc.py

# docs/configuration.md from the settings classes' field descriptions; a contract test fails when stale.
config-docs: setup
	$(BIN)/python scripts/settings_doc.py

# The chart's Grafana dashboards, written from their Python (tools/dashboards, grafana-foundation-sdk):
# edit the code, run this, commit both. tests/monitoring/test_dashboards_generated.py fails when stale.
dashboards: setup
	$(BIN)/python -m tools.dashboards

clean:
	rm -rf $(VENV) .local .mypy_cache .pytest_cache .ruff_cache
