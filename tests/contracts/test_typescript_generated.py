"""The TypeScript client's generated code (clients/typescript/src/gen) is what buf makes of protos/ now.

Regenerating needs protoc-gen-es from the client's node_modules (`npm ci`, once per package-lock.json)
and so Node.js 20 or later: without it tests/conftest.py leaves this module out, and the run ends with a
NOT RUN line saying so.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

from scripts.generate_stubs import TYPESCRIPT, TYPESCRIPT_OUT, generate_typescript
from tests.contracts.generated import differences


def test_committed_typescript_is_fresh(tmp_path: Path) -> None:
    fresh = generate_typescript(tmp_path)
    committed = TYPESCRIPT / TYPESCRIPT_OUT
    stale = differences(filecmp.dircmp(fresh, committed))
    assert not stale, f"run `make protos`; stale or missing TypeScript: {stale}"
