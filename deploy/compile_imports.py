"""Byte-compile what the services import, and only that: python compile_imports.py DIR [DIR ...]

The image's root filesystem is read-only, so a module without bytecode is compiled again at every start.
Compiling everything (the whole standard library, SQLAlchemy's other dialects, test suites, unused parts
of libraries) cost 7 MB of the virtualenv and, on the official base, about 20 MB of standard-library
bytecode, for modules no service loads.

This imports each service's entry point, every module of the platform's own packages and the modules
loaded later (LOADED_LATER), then writes unchecked-hash bytecode for every source file in a folder any
of them came from, and for every file of the platform's packages (Alembic loads migrations by path),
when it lies under one of the DIRs: the virtualenv (deploy/install-venv.sh) or the standard library
(deploy/Dockerfile). A module still missed is compiled in memory when first used: slower once per
process, never wrong. tests/e2e/test_image.py runs the platform and names any module a run compiled.
"""

from __future__ import annotations

import importlib
import pkgutil
import py_compile
import sys
from pathlib import Path

# Each console script's module, and the packages whose every module a service may load.
ENTRY_POINTS = ("catalog.__main__", "ingestion.__main__", "gateway.__main__", "gamectl.__main__")
PLATFORM_PACKAGES = ("catalog", "ingestion", "gateway", "gamekit", "gamesclient", "games")
# Loaded after start-up, inside functions: SQLAlchemy's dialect by its URL, the tracing set-up's
# instrumentation (with what it patches and checks), boto3's S3 client extras. tests/e2e/test_image.py
# names any module a run compiles that this misses.
LOADED_LATER = (
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.future",
    "opentelemetry.instrumentation.sqlalchemy",
    "opentelemetry.instrumentation.dependencies",
    "opentelemetry.semconv.metrics",
    "boto3.s3.inject",
    "boto3.s3.transfer",
)


def load_platform() -> None:
    """Import what a start of each service imports, and every module of the platform's packages."""
    for name in (*ENTRY_POINTS, *LOADED_LATER):
        importlib.import_module(name)
    for package_name in PLATFORM_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            importlib.import_module(module.name)


def loaded_sources(roots: list[Path]) -> list[Path]:
    """Every source file in a folder a loaded module came from, and the platform's, under one of `roots`.

    A whole folder, not the loaded modules alone: libraries import their siblings inside functions
    (grpc's server, boto3's transfer, an instrumentation's engine hooks), while the folders nothing
    loads from (other SQL dialects, test suites, unused AWS parts) are the bytes worth leaving out.
    """
    folders = {Path(folder) for name in PLATFORM_PACKAGES for folder in sys.modules[name].__path__}
    sources = {path for folder in folders for path in folder.rglob("*.py")}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and file.endswith(".py"):
            sources.update(Path(file).parent.glob("*.py"))
    resolved = {path.resolve() for path in sources}
    return sorted(path for path in resolved if any(path.is_relative_to(root) for root in roots))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    roots = [Path(arg).resolve() for arg in argv]
    sys.dont_write_bytecode = True
    load_platform()
    sources = loaded_sources(roots)
    for source in sources:
        py_compile.compile(
            str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
    print(f"compiled {len(sources)} modules under {', '.join(argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
