"""The contracts: buf-clean, not broken against main, and the committed stubs generated from them."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contracts.generated import differences

ROOT = Path(__file__).resolve().parents[2]
BUF = Path(sys.executable).parent / "buf"
sys.path.insert(0, str(ROOT / "scripts"))

from generate_stubs import generate  # noqa: E402


def buf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUF), *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("command", [["build"], ["lint"], ["format", "--diff", "--exit-code"]])
def test_buf_is_clean(command: list[str]) -> None:
    result = buf(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_breaking_change_against_main() -> None:
    has_main = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "refs/heads/main"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    ref = "branch=main" if has_main.returncode == 0 else "ref=HEAD"
    result = buf("breaking", "--against", f".git#{ref}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    generate(tmp_path)
    fresh, committed = tmp_path / "games", ROOT / "services" / "games"
    stale = differences(filecmp.dircmp(fresh, committed, ignore=["__pycache__", "py.typed"]))
    assert not stale, f"run `make protos`; stale or missing stubs: {stale}"
