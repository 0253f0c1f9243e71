"""The generated region of a page: rewritten between its markers, and a broken page refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.generated_region import with_region

START, END = "<!-- table:start -->", "<!-- table:end -->"


def test_only_the_text_between_the_markers_is_replaced(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\nProse.\n{START}\nold table\n{END}\nMore prose.\n")
    assert with_region(page, START, END, "new table") == (
        f"# Title\n\nProse.\n{START}\nnew table\n{END}\nMore prose.\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        f"# Title\n{START}\nold table\nThe rest of the page, which must not be lost.\n",  # no end
        f"# Title\nold table\n{END}\n",  # no start
        f"# Title\n{END}\nold\n{START}\n",  # the end before the start
        f"# Title\n{START}",  # the start marker last
    ],
)
def test_a_page_without_both_markers_in_order_is_refused(tmp_path: Path, text: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(text)
    with pytest.raises(SystemExit, match="marker"):
        with_region(page, START, END, "new table")
