"""Regenerate the Python stubs and their .pyi under services/games/ from protos/.

Run as `make protos`. The output is committed; tests/contracts checks it is fresh.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"
BIN = Path(sys.executable).parent  # mypy-protobuf's protoc plugins live beside this interpreter


def generate(out_dir: Path) -> None:
    """Write every stub for protos/ into out_dir (the parent of the `games` package)."""
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{WELL_KNOWN}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {p.parent for p in out_dir.rglob("*_pb2.py")}:
        while package != out_dir:
            (package / "__init__.py").touch()
            package = package.parent


def main() -> None:
    """Regenerate services/games in place, replacing what was there."""
    target = ROOT / "services" / "games"
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(tmp) / "games", target)
    (target / "py.typed").touch()
    print(f"stubs written to {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
