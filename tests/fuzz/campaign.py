"""`make fuzz`: each parser that takes outside bytes under atheris (libFuzzer) for a set time, then a report.

Targets are tests/fuzz/fuzz_<name>.py, each a `one_input(data)` that lets only the parser's documented
error escape, and `seeds()`:

    delivery     a delivered file: ingestion's repair shield, shape guard, parser, reader, values
    page_tokens  a page token (gamekit.paging.tokens)
    keys         the gateway's API key file (gateway.callers.keys)

Usage (FUZZ_SECONDS and FUZZ_TARGETS are what `make fuzz` passes on):

    python -m tests.fuzz.campaign [--seconds 60] [target ...]
    python -m tests.fuzz.campaign --seed      # write seeds() into the kept corpus

Each target starts from its kept corpus, tests/fuzz/corpus/<name>/ (in the repository, replayed by
tests/fuzz/test_corpus.py in `make test`), and writes under build/fuzz/<name>/: corpus/ (inputs that
reached new code), crashes/ (libFuzzer's crash-<sha1>, timeout-... and oom-... files) and fuzz.log.
libFuzzer stops a target at its first crash; the report names each one with the exception it raises
when replayed. FUZZ_KEEP=1 copies the new inputs (up to 4 KiB each) into the kept corpus, to commit.
Exit status 1 when a target crashed.

This module imports no code under test at its top: a child process (`--child`) imports its target
inside atheris's import hook, which instruments only modules imported there.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPORA = HERE / "corpus"
OUT = ROOT / "build" / "fuzz"
KEEP_MAX_BYTES = 4096
SCRATCH = "/dev/shm"


@dataclass(frozen=True)
class Target:
    """A fuzz target: the packages atheris instruments, and the longest input libFuzzer makes."""

    instrument: tuple[str, ...]
    max_len: int


TARGETS = {
    "delivery": Target(("ingestion",), 16384),
    "page_tokens": Target(("gamekit.paging.tokens",), 4096),
    "keys": Target(("gateway.callers.keys",), 4096),
}


def corpus(name: str) -> Path:
    """The kept corpus of a target."""
    return CORPORA / name


def kept_inputs(name: str) -> list[Path]:
    """Every input of a target's kept corpus, in name order."""
    return sorted(p for p in corpus(name).iterdir() if p.is_file())


def _child(name: str, args: list[str]) -> None:
    import atheris  # only here: `make test` replays the corpus without it

    logging.disable(logging.CRITICAL)  # a warning per input (a bad key file, say) would cost more than it
    with atheris.instrument_imports(include=list(TARGETS[name].instrument)):
        module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    atheris.Setup([sys.argv[0], *args], module.one_input)
    atheris.Fuzz()


def _write_seeds() -> None:
    for name in TARGETS:
        module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
        corpus(name).mkdir(parents=True, exist_ok=True)
        for seed in module.seeds():
            (corpus(name) / f"seed-{hashlib.sha1(seed).hexdigest()[:16]}").write_bytes(seed)
        print(f"{name}: {len(kept_inputs(name))} inputs in {corpus(name).relative_to(ROOT)}")


@dataclass
class Outcome:
    """What one target's run found."""

    name: str
    executions: str
    new_inputs: list[Path]
    crashes: list[Path]
    log: Path


def _run(name: str, seconds: int) -> Outcome:
    out = OUT / name
    shutil.rmtree(out, ignore_errors=True)
    (out / "corpus").mkdir(parents=True)
    (out / "crashes").mkdir()
    log = out / "fuzz.log"
    dictionary = HERE / f"{name}.dict"
    args = [
        f"-max_total_time={seconds}",
        f"-max_len={TARGETS[name].max_len}",
        "-timeout=20",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={out / 'crashes'}/",
        *([f"-dict={dictionary}"] if dictionary.exists() else []),
        str(out / "corpus"),
        str(corpus(name)),
    ]
    command = [sys.executable, "-m", "tests.fuzz.campaign", "--child", name, *args]
    print(f"fuzzing {name} for {seconds} s (log: {log.relative_to(ROOT)})", flush=True)
    with log.open("wb") as output:
        # The target's scratch files, removed here: libFuzzer ends the child before its atexit runs. In
        # memory where there is a tmpfs (thousands of files a second; opening one on disk can take 1 ms).
        scratch = tempfile.mkdtemp(prefix=f"fuzz-{name}-", dir=SCRATCH if os.path.isdir(SCRATCH) else None)
        try:
            env = {**os.environ, "TMPDIR": scratch}
            subprocess.run(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    runs = re.search(r"stat::number_of_executed_units: (\d+)", log.read_text(errors="replace"))
    return Outcome(
        name,
        runs.group(1) if runs else "?",
        sorted((out / "corpus").iterdir()),
        sorted((out / "crashes").iterdir()),
        log,
    )


def _replayed(name: str, crash: Path) -> str:
    """The exception `crash` raises in the target now, or that it no longer does."""
    module = importlib.import_module(f"tests.fuzz.fuzz_{name}")
    try:
        module.one_input(crash.read_bytes())
    except BaseException as exc:  # the report shows whatever the target raised
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
    return "no longer fails (fixed since, or a timeout or out-of-memory)"


def _keep(outcome: Outcome) -> int:
    kept = 0
    for path in outcome.new_inputs:
        if path.stat().st_size <= KEEP_MAX_BYTES and not (corpus(outcome.name) / path.name).exists():
            shutil.copyfile(path, corpus(outcome.name) / path.name)
            kept += 1
    return kept


def _report(outcomes: list[Outcome], keep: bool) -> int:
    print("\nfuzz report")
    for outcome in outcomes:
        line = f"  {outcome.name}: {outcome.executions} inputs run, {len(outcome.new_inputs)} new in corpus"
        if keep:
            line += f", {_keep(outcome)} kept in {corpus(outcome.name).relative_to(ROOT)}"
        print(line + f", {len(outcome.crashes)} crash(es)")
        for crash in outcome.crashes:
            print(f"    {crash.relative_to(ROOT)}: {_replayed(outcome.name, crash)}")
    crashed = [o for o in outcomes if o.crashes]
    if crashed:
        print("Each crash file is an input: replay one with tests/fuzz/fuzz_<name>.py's one_input, fix the")
        print("parser, and copy the file into tests/fuzz/corpus/<name>/ so that `make test` keeps it fixed.")
        for outcome in crashed:
            print(f"  {outcome.name}: the end of {outcome.log.relative_to(ROOT)}")
            tail = outcome.log.read_text(errors="replace").splitlines()[-25:]
            print("\n".join(f"    | {text}" for text in tail))
    return 1 if crashed else 0


def main(argv: list[str] | None = None) -> int:
    """Run the campaign (or a child, or the seeding) as the command line says."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.campaign", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help=f"of {', '.join(TARGETS)} (default: every one)")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS") or 60))
    parser.add_argument("--seed", action="store_true", help="write each target's seeds into its kept corpus")
    options = parser.parse_args(argv)
    if options.seed:
        _write_seeds()
        return 0
    names = options.targets or (os.environ.get("FUZZ_TARGETS") or "").split() or list(TARGETS)
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; the targets are {list(TARGETS)}")
    outcomes = [_run(name, options.seconds) for name in names]
    return _report(outcomes, keep=os.environ.get("FUZZ_KEEP") == "1")


if __name__ == "__main__":
    raise SystemExit(main())
