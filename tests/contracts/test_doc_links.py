"""Every relative link of the docs leads to a file and heading inside the repository; the README stays short.

Links are read from the Markdown outside code (fenced blocks and inline code are skipped), as inline links
`[text](target)`, images and reference definitions `[label]: target`. Anchors are checked against the
headings of the target page as GitHub makes them: lowercased, punctuation but `-` and `_` dropped, spaces
made hyphens, and `-1`, `-2`... added to repeats.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_BYTES = 10_240
FIRST_SCREEN_LINES = 40


def _pages() -> list[Path]:
    pages = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
    pages += [ROOT / "charts" / "games-platform" / "README.md", ROOT / "clients" / "typescript" / "README.md"]
    pages += sorted((ROOT / "deploy").glob("**/README.md"))
    return pages


PAGES = _pages()
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:...


def _prose(text: str) -> str:
    """The Markdown without fenced code blocks and inline code, where `](` is not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def links(text: str) -> list[str]:
    """Every link target of a Markdown text, in order."""
    prose = _prose(text)
    found = [m.group(1) for m in _INLINE.finditer(prose)] + [m.group(1) for m in _DEFINITION.finditer(prose)]
    return [target.strip("<>") for target in found]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text (before repeats are numbered)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a Markdown page: its headings (outside code), numbered as GitHub numbers repeats."""
    seen: Counter[str] = Counter()
    found = set(_HTML_ANCHOR.findall(text))
    for match in _HEADING.finditer(_FENCE.sub("", text)):
        slug = github_slug(match.group(2))
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def broken(text: str, page: Path) -> list[str]:
    """What is wrong with each relative link of `text`, the Markdown of `page`."""
    problems = []
    for target in links(text):
        if not target or _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part.split("?", 1)[0])
        if not path_part:
            if anchor and unquote(anchor) not in anchors(text):
                problems.append(f"{target}: no such heading")
            continue
        # GitHub reads a leading / as the repository's root.
        base = ROOT if path_part.startswith("/") else page.parent
        resolved = (base / path_part.lstrip("/")).resolve()
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved.read_text()):
            problems.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page: Path) -> None:
    assert page.exists(), f"{page.relative_to(ROOT)} is missing"
    problems = broken(page.read_text(), page)
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size < README_MAX_BYTES, f"README.md has {size} bytes, over {README_MAX_BYTES}: move it to docs/"


def test_readme_first_screen_says_how_to_start_and_what_talks_to_what() -> None:
    first_screen = "\n".join(README.read_text().splitlines()[:FIRST_SCREEN_LINES])
    blocks = [m.group(0) for m in _FENCE.finditer(first_screen)]
    commands = [block for block in blocks if "make up" in block and "make test" in block]
    assert commands, "the first screen needs `make up` and `make test` in a code block"
    # The picture: one block naming every service and what each talks to, with arrows between them.
    parts = ("callers", "gateway", "catalog", "ingestion", "PostgreSQL", "Redis", "S3", "SQS", "CronJob")
    pictures = [block for block in blocks if all(part in block for part in parts) and "▶" in block]
    assert pictures, f"the first screen needs a diagram naming {', '.join(parts)}"
    assert any(name in pictures[0] for name in ("ImportGames", "WatchRevision")), "the diagram shows no calls"
    assert "docs/architecture.md#the-path-of-one-request" in first_screen
    steps = re.search(r"^1\. .+\n(?:.*\n)*?2\. ", first_screen, re.MULTILINE)
    assert steps, "the first screen needs the path of one request, in numbered steps"


def test_links_and_anchors_are_read_as_github_reads_them() -> None:
    text = (
        "# Title\n## What `make pods` proves\n## Refusals: what each reason means, and what to do\n"
        "## Title\n```\n# not a heading\n[x](nowhere.md)\n```\n"
        "See [a](docs/api.md#x) and `[b](skipped.md)`, ![c](img.png).\n[d]: <ref.md>\n"
    )
    assert anchors(text) == {
        "title",
        "what-make-pods-proves",
        "refusals-what-each-reason-means-and-what-to-do",
        "title-1",
    }
    assert links(text) == ["docs/api.md#x", "img.png", "ref.md"]


def test_broken_links_are_found() -> None:
    # The README once linked the design notes beside the repository: a file, but not one readers have.
    assert broken("[design](../shared/DESIGN.md)", README) == ["../shared/DESIGN.md: outside the repository"]
    text = "# Here\n[a](#here) [b](#there) [c](missing.md) [d](../README.md#nowhere) [e](/docs/api.md)"
    assert broken(text, ROOT / "docs" / "page.md") == [
        "#there: no such heading",
        "missing.md: no such file",
        "../README.md#nowhere: no heading #nowhere in README.md",
    ]
