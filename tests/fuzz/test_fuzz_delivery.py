"""The fuzz harness's one input over its seeds: only FileRejected may escape parse_delivery."""

from __future__ import annotations

import pytest

from tests.fuzz.fuzz_delivery import one_input, seeds


@pytest.mark.parametrize("seed", seeds())
def test_the_harness_accepts_every_seed(seed):
    one_input(seed)
