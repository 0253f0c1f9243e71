"""deploy/Dockerfile keeps the habits of a production image, read as text (there is no Docker engine here).

Pinned bases, one target per service naming its console script, a numeric non-root user, nothing built or
installed in the runtime stages, and the build stage running deploy/install-venv.sh, the script that
tests/e2e/test_image.py runs too. The parser is in tests/fixtures/dockerfile.py.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.fixtures.dockerfile import (
    BUILD_STAGE,
    COMPILERS,
    DOCKERFILE,
    REPO,
    SERVICES,
    Stage,
    build_copies,
    chain,
    dockerignore_patterns,
    ignored,
    in_effect,
    parse,
)


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())


def test_every_base_image_is_pinned(stages: list[Stage]) -> None:
    names: set[str] = set()
    for stage in stages:
        if stage.base not in names:
            image, _, tag = stage.base.partition("@")[0].rpartition(":")
            pinned = image and tag and "/" not in tag and tag != "latest"
            assert "@sha256:" in stage.base or pinned, f"FROM {stage.base} is not pinned"
        names.add(stage.name)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_target_runs_its_console_script_as_a_numeric_non_root_user(
    stages: list[Stage], service: str
) -> None:
    assert service in {stage.name for stage in stages}, f"no --target {service}"
    user = in_effect(stages, service, "USER")
    assert user is not None, f"{service} runs as root"
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric (runAsNonRoot cannot verify it)"
    assert int(user.split(":")[0]) != 0
    entrypoint = in_effect(stages, service, "ENTRYPOINT")
    assert entrypoint is not None
    command = json.loads(entrypoint)  # exec form: signals reach the service, not a shell
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert Path(command[0]).name == service
    assert service in scripts
    assert json.loads(in_effect(stages, service, "CMD") or "null") == ["serve"]


def test_runtime_stages_install_and_build_nothing(stages: list[Stage]) -> None:
    runtime = {stage.name: stage for service in SERVICES for stage in chain(stages, service)}
    assert BUILD_STAGE not in runtime
    for stage in runtime.values():
        for run in stage.all("RUN"):
            words = set(re.split(r"[\s;&|=]+", run))
            assert not words & {"pip", "pip3"}, f"{stage.name} installs with pip: {run}"
            assert not words & set(COMPILERS), f"{stage.name} installs a compiler: {run}"
        for copy in stage.all("COPY"):
            assert copy.startswith(f"--from={BUILD_STAGE} "), f"{stage.name} copies from the context: {copy}"
    environment = " ".join(value for stage in chain(stages, SERVICES[0]) for value in stage.all("ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"):
        assert setting in environment


def test_the_build_stage_runs_the_install_script_the_image_test_runs(stages: list[Stage]) -> None:
    runs = chain(stages, BUILD_STAGE)[-1].all("RUN")
    assert any("deploy/install-venv.sh" in run for run in runs)
    patterns = dockerignore_patterns()
    for sources, _ in build_copies(stages):
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such path"
            assert not ignored(source, patterns), f".dockerignore keeps {source} out of the context"
    for kept_out in (".git", ".venv", ".local", "tests", "services/gamekit/__pycache__/x.pyc"):
        assert ignored(kept_out, patterns), f".dockerignore lets {kept_out} into the context"


# Debian's base-passwd users and groups: in every Debian image, the official python one included.
DEBIAN_STOCK_NAMES = set(
    [
        "root",
        "daemon",
        "bin",
        "sys",
        "adm",
        "tty",
        "disk",
        "lp",
        "mail",
        "news",
        "uucp",
        "man",
        "proxy",
        "kmem",
        "dialout",
        "fax",
        "voice",
        "cdrom",
        "floppy",
        "tape",
        "sudo",
        "audio",
        "dip",
        "www-data",
        "backup",
        "operator",
        "list",
        "irc",
        "src",
        "gnats",
        "shadow",
        "utmp",
        "video",
        "sasl",
        "plugdev",
        "staff",
        "games",
        "users",
        "nogroup",
        "nobody",
        "sync",
        "_apt",
    ]
)


def test_the_runtime_user_and_group_are_new_names_on_a_debian_base(stages: list[Stage]) -> None:
    # groupadd exits 9 on a name the base already has (`games`, gid 60): the build stops there.
    for stage in {stage.name: stage for service in SERVICES for stage in chain(stages, service)}.values():
        for run in stage.all("RUN"):
            for tool, name in re.findall(
                r"\b(groupadd|useradd)\b[^&;|]*?\s([a-z_][a-z0-9_-]*)\s*(?:$|&&|;)", run
            ):
                assert name not in DEBIAN_STOCK_NAMES, f"{tool} {name}: Debian's base already has {name}"


def test_the_base_image_is_an_argument_defaulting_to_the_official_image() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm$", text, re.MULTILINE)
    assert all(
        line.split()[1] in ("${BASE_IMAGE}", "runtime") for line in re.findall(r"^FROM .*$", text, re.M)
    )
    assert "standin" not in text.lower(), "the Dockerfile never names the local stand-in base"


def test_the_ca_bundle_enters_the_build_as_a_secret_mount_only(stages: list[Stage]) -> None:
    install = next(run for run in chain(stages, BUILD_STAGE)[-1].all("RUN") if "install-venv.sh" in run)
    assert install.startswith("--mount=type=secret,id=ca"), install
    for stage in stages:
        for copy in stage.all("COPY") + stage.all("ADD"):
            assert not re.search(r"\.(crt|pem)\b|ca-certificates", copy), f"{stage.name} copies a CA: {copy}"
        for arg in stage.all("ARG") + stage.all("ENV"):
            assert not re.search(r"CERT|CA_BUNDLE", arg.upper()), f"{stage.name} passes a CA: {arg}"
