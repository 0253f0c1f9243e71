"""deploy/Dockerfile keeps the habits of a production image, read as text (there is no Docker engine here).

Pinned bases, one target per service naming its console script, a numeric non-root user, nothing built or
installed in the runtime stages, and the build stage running deploy/install-venv.sh, the script that
tests/e2e/test_image.py runs too. The parser and `copy_build_sources` are shared with that test.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
SERVICES = ("catalog", "ingestion", "gateway")
BUILD_STAGE = "build"
COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "cargo", "rustc")


@dataclass
class Stage:
    """One FROM and the instructions under it, as (KEYWORD, arguments) pairs."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        """The arguments of every instruction with this keyword, in order."""
        return [args for key, args in self.instructions if key == keyword]


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile: continuation lines joined, comments and parser directives dropped."""
    stages: list[Stage] = []
    logical = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        if logical.strip():
            keyword, _, args = logical.strip().partition(" ")
            keyword, args = keyword.upper(), args.strip()
            if keyword == "FROM":
                base, *name = re.split(r"\s+as\s+", re.sub(r"^--platform=\S+\s+", "", args), flags=re.I)
                stages.append(Stage(base.strip(), name[0].strip() if name else str(len(stages))))
            else:
                stages[-1].instructions.append((keyword, args))
        logical = ""
    return stages


def chain(stages: list[Stage], name: str) -> list[Stage]:
    """A stage and the stages it is built FROM, the stage itself last."""
    by_name = {stage.name: stage for stage in stages}
    found = [by_name[name]]
    while found[0].base in by_name:
        found.insert(0, by_name[found[0].base])
    return found


def in_effect(stages: list[Stage], name: str, keyword: str) -> str | None:
    """The last value of USER, ENTRYPOINT, CMD... that a stage has, inherited ones included."""
    values = [value for stage in chain(stages, name) for value in stage.all(keyword)]
    return values[-1] if values else None


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps a context path out: the last pattern matching it or a parent wins."""
    parts = relative.split("/")
    paths = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _glob(pattern.lstrip("!"))
        if any(regex.fullmatch(path) for path in paths):
            excluded = not negated
    return excluded


def _glob(pattern: str) -> re.Pattern[str]:
    out = ""
    for token in re.split(r"(\*\*/|\*|\?|\[[^]]*\])", pattern.strip("/")):
        if token == "**/":
            out += "(?:.*/)?"
        elif token == "*":
            out += "[^/]*"
        elif token == "?":
            out += "[^/]"
        elif token.startswith("["):
            out += token
        else:
            out += re.escape(token)
    return re.compile(out)


def dockerignore_patterns() -> list[str]:
    """The patterns of the repository's .dockerignore."""
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def build_copies(stages: list[Stage]) -> list[tuple[list[str], str]]:
    """The build stage's COPY instructions from the context: (sources, destination)."""
    copies = []
    for args in chain(stages, BUILD_STAGE)[-1].all("COPY"):
        *sources, destination = shlex.split(args)
        assert not any(s.startswith("--") for s in sources), f"unexpected COPY option: {args}"
        copies.append((sources, destination))
    return copies


def copy_build_sources(destination: Path) -> None:
    """Lay out in `destination` what the build stage's COPYs put under its WORKDIR, .dockerignore applied."""
    stages = parse(DOCKERFILE.read_text())
    patterns = dockerignore_patterns()
    for sources, target in build_copies(stages):
        for source in sources:
            path = REPO / source
            into = destination / target
            if path.is_file():
                dest = into / path.name if target.endswith("/") else into
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
                continue
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(REPO).as_posix()
                if not ignored(relative, patterns):
                    dest = into / file.relative_to(path)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, dest)


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
