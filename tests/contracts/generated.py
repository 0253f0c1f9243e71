"""Comparing freshly generated code with the committed tree, file by file and byte by byte."""

from __future__ import annotations

import filecmp


def differences(comparison: filecmp.dircmp[str]) -> list[str]:
    """Files only on one side, or whose contents differ, anywhere under the two compared folders."""
    found = comparison.left_only + comparison.right_only + comparison.diff_files
    for sub in comparison.subdirs.values():
        found += differences(sub)
    # dircmp compares by stat signature first; compare the contents of the rest too.
    _, mismatch, errors = filecmp.cmpfiles(
        comparison.left, comparison.right, comparison.same_files, shallow=False
    )
    return found + mismatch + errors
