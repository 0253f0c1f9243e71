"""Every fuzz target over its kept corpus (tests/fuzz/corpus/<target>/): the failures found stay fixed.

The same `one_input` that `make fuzz` runs under atheris, here without it: deterministic and quick, so
that `make test` replays every input the campaigns kept, crashes once found included.
"""

from __future__ import annotations

import importlib

import pytest

from tests.fuzz.campaign import TARGETS, kept_inputs

CASES = [(name, path) for name in TARGETS for path in kept_inputs(name)]


@pytest.mark.parametrize("name", TARGETS)
def test_every_target_keeps_a_corpus(name):
    assert len(kept_inputs(name)) >= 10, f"tests/fuzz/corpus/{name} lost its inputs"


@pytest.mark.parametrize(("name", "path"), CASES, ids=[f"{n}/{p.name}" for n, p in CASES])
def test_the_target_takes_every_kept_input(name, path):
    importlib.import_module(f"tests.fuzz.fuzz_{name}").one_input(path.read_bytes())
