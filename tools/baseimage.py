"""The base image: the official python image where it can be pulled, else a stand-in the project makes.

Machines without a reachable registry cannot pull `python:3.11-slim-bookworm`, so `make images` builds a
stand-in from Debian's own packages: `debootstrap --variant=minbase bookworm`, then Debian's python3.11
(and python3.11-venv, which the official image's own build of CPython includes), laid out as the official
image is: the interpreter at /usr/local/bin/python (and python3, python3.11), the standard library
reachable at /usr/local/lib/python3.11, the official PATH and LANG, and Debian's stock users and groups
from base-passwd (so `games`, gid 60, is there, as it is in every Debian image). It is tagged
`localhost/...-standin` for local builds only: deploy/Dockerfile never names it, it arrives as BASE_IMAGE.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tools.engine import REPO, Engine

DOCKERFILE = REPO / "deploy" / "Dockerfile"
STANDIN = "localhost/games-platform-base:python3.11-bookworm-standin"
PULL_TIMEOUT_SECONDS = 120
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3.11", "python3.11-venv", "ca-certificates", "netbase", "tzdata")
# The official image's environment (docker.io/library/python:3.11-slim-bookworm), but its version pins.
IMAGE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
# What the stand-in does not need at run time and the official slim image does not carry either.
PRUNE = ("var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man", "usr/share/info")


def official_base() -> str:
    """The BASE_IMAGE default of deploy/Dockerfile: the one place that names the official image."""
    found = re.search(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"{DOCKERFILE} has no `ARG BASE_IMAGE=<default>`")
    return found.group(1)


def choose_base(engine: Engine, *, rebuild: bool = False) -> str:
    """The official base when present or pullable, else the stand-in (built when missing or `rebuild`)."""
    official = official_base()
    if engine.has_image(official):
        return official
    try:
        pulled = engine.run("pull", "--quiet", official, check=False, timeout=PULL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        pulled = None
    if pulled is not None and pulled.returncode == 0:
        return official
    print(f"{official} cannot be pulled here; building from the stand-in {STANDIN}")
    if rebuild or not engine.has_image(STANDIN):
        build_standin(engine)
    return STANDIN


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (a deb822 or one-line source), else deb.debian.org."""
    for source in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(
        Path("/etc/apt/sources.list.d").glob("*")
    ):
        if not source.is_file():
            continue
        text = source.read_text(errors="replace")
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$|^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", text, re.M)
        if match:
            return match.group(1) or match.group(2)
    return DEFAULT_MIRROR


def build_standin(engine: Engine) -> None:
    """debootstrap a bookworm root with python3.11, lay it out like the official image, import it."""
    if os.geteuid() != 0:
        raise RuntimeError("the stand-in base needs root (debootstrap, chroot): run `make images` as root")
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed: `apt-get install debootstrap`")
    with tempfile.TemporaryDirectory(prefix="games-base-", dir="/var/tmp") as work:
        root = Path(work) / "root"
        _run(["debootstrap", "--variant=minbase", "bookworm", str(root), apt_mirror()])
        chroot_env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        _run(["chroot", str(root), "apt-get", "update", "-qq"], env=chroot_env)
        _run(
            ["chroot", str(root), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
            env=chroot_env,
        )
        _lay_out_like_the_official_image(root)
        changes = [f"ENV {name}={value}" for name, value in IMAGE_ENV.items()]
        changes += [
            'CMD ["python3"]',
            "LABEL org.opencontainers.image.description="
            '"Local stand-in for python:3.11-slim-bookworm: debootstrap minbase + Debian python3.11"',
        ]
        tar = subprocess.Popen(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", "-", "."], stdout=subprocess.PIPE
        )
        assert tar.stdout is not None
        imported = subprocess.run(
            [*engine.argv, "import", *(f"--change={c}" for c in changes), "-", STANDIN],
            env=engine.env,
            stdin=tar.stdout,
            capture_output=True,
            check=False,
        )
        tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise RuntimeError(f"importing the stand-in failed: {imported.stderr.decode(errors='replace')}")


def _lay_out_like_the_official_image(root: Path) -> None:
    """The official image's paths on Debian's interpreter, and nothing of the build machine left in."""
    local_bin = root / "usr/local/bin"
    local_bin.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3", "python3.11"):
        link = local_bin / name
        link.unlink(missing_ok=True)
        link.symlink_to("/usr/bin/python3.11")
    # Debian makes /usr/local/lib/python3.11/dist-packages; the official image keeps its standard library
    # there (the Dockerfile byte-compiles it, and venvs made from /usr/local/bin/python find it there).
    stdlib = root / "usr/local/lib/python3.11"
    if stdlib.is_symlink() or stdlib.is_file():
        stdlib.unlink()
    elif stdlib.exists():
        shutil.rmtree(stdlib)
    stdlib.symlink_to("/usr/lib/python3.11")
    for relative in PRUNE:
        for child in (root / relative).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    # The engine writes its own at each start; the build machine's would only be stale.
    for name in ("etc/resolv.conf", "etc/hostname", "etc/hosts"):
        (root / name).unlink(missing_ok=True)


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
