"""Regenerate the Python stubs and their .pyi under services/games/ from protos/, and the TypeScript
client's code under clients/typescript/src/gen/ (buf with protoc-gen-es from its node_modules).

Run as `make protos`. The output is committed; tests/contracts checks both are fresh.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"
BIN = Path(sys.executable).parent  # mypy-protobuf's protoc plugins live beside this interpreter
TYPESCRIPT = ROOT / "clients" / "typescript"
TYPESCRIPT_OUT = Path("src") / "gen"  # relative to TYPESCRIPT, as buf.gen.yaml says
# Written into node_modules by the last `npm ci`: the hash of the package-lock.json it installed.
LOCK_STAMP = ".package-lock.sha256"
NPM_TIMEOUT_SECONDS = 600.0


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


def run_in_client(*argv: str, timeout: float = NPM_TIMEOUT_SECONDS) -> None:
    """Run `argv` in clients/typescript; SystemExit with the end of its output when it fails."""
    result = subprocess.run(
        argv, cwd=TYPESCRIPT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def node_modules() -> None:
    """`npm ci` in clients/typescript when its package-lock.json changed since the last one."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("the TypeScript client needs Node.js 20 or later with npm on PATH")
    digest = hashlib.sha256((TYPESCRIPT / "package-lock.json").read_bytes()).hexdigest()
    stamp = TYPESCRIPT / "node_modules" / LOCK_STAMP
    if stamp.exists() and stamp.read_text() == digest:
        return
    run_in_client("npm", "ci", "--no-audit", "--no-fund")
    stamp.write_text(digest)


def generate_typescript(out_dir: Path) -> Path:
    """Write the TypeScript code for protos/ under out_dir (buf.gen.yaml's src/gen); that folder."""
    node_modules()
    run_in_client(str(BIN / "buf"), "generate", "--template", "buf.gen.yaml", "--output", str(out_dir))
    return out_dir / TYPESCRIPT_OUT


def main() -> None:
    """Regenerate services/games and clients/typescript/src/gen in place, replacing what was there."""
    target = ROOT / "services" / "games"
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(tmp) / "games", target)
    (target / "py.typed").touch()
    print(f"stubs written to {target.relative_to(ROOT)}", file=sys.stderr)
    shutil.rmtree(TYPESCRIPT / TYPESCRIPT_OUT, ignore_errors=True)  # a deleted proto leaves no .ts behind
    written = generate_typescript(TYPESCRIPT)
    print(f"TypeScript written to {written.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
