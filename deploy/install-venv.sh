#!/usr/bin/env bash
# Install the platform into a new virtualenv: deploy/install-venv.sh <venv-dir> <source-dir>
#
# The image's build stage RUNs this (deploy/Dockerfile), and tests/e2e/test_image.py runs it into a
# temporary directory and starts every service from the result, so the two share their steps.
# What it installs: the project's own wheel with its pinned runtime dependencies, no extras (no dev
# tools, no embedded PostgreSQL), every package from a prebuilt wheel (nothing is compiled, so no
# compiler is needed), no pip cache, and no installer left behind. Then it byte-compiles what the
# services import (deploy/compile_imports.py), so a read-only root filesystem costs no start-up time.
# PYTHON names the interpreter the virtualenv is made from (default: python3).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 <venv-dir> <source-dir>" >&2
    exit 2
fi
venv=$1
source=$2
python=${PYTHON:-python3}
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1

"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip)
"${pip[@]}" wheel --no-deps --wheel-dir "$wheels" "$source"
"${pip[@]}" install --only-binary=:all: --no-compile "$wheels"/*.whl
# The services never install anything at run time; pip and setuptools would only be more to patch.
"${pip[@]}" uninstall --yes pip setuptools
# botocore carries the model of every AWS service (about 28 MB of the image's ~150). The platform calls S3
# and SQS; the credential chain may call STS (workload identity) and SSO. No other model is ever loaded.
keep=" s3 sqs sts sso sso-oidc "
for model in "$venv"/lib/python3*/site-packages/botocore/data/*/; do
    [[ $keep == *" $(basename "$model") "* ]] || rm -rf "$model"
done
# Bytecode that Python trusts without checking the source's time or hash: the files never change in the
# image, and their times may (layers), which would otherwise make every start compile them again.
"$venv/bin/python" -B "$source/deploy/compile_imports.py" "$venv/lib"
