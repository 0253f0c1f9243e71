"""The parse floor: the fastest JSON parser at hand (orjson) over a delivery file, nothing else.

orjson refuses the lone surrogate escapes real deliveries carry (`Pok\\udc8emon`), so one
`bytes.replace` first turns every `\\ud...` escape into plain text (its cost is counted); nothing is
repaired or checked. `--whole` parses the file as one document (about 8x the file in RAM); otherwise
each line, which in this format is one rank group, is parsed on its own. Prints one JSON line:
seconds, records, peak RSS.

    python -m bench.parse_floor FILE [--whole]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import orjson

ESCAPE = b"\\ud"
PLAIN = b"\\\\ud"


def parse_whole(path: Path) -> int:
    """Records in the file, parsed as one document."""
    groups = orjson.loads(path.read_bytes().replace(ESCAPE, PLAIN))
    return sum(len(group) for group in groups)


def parse_lines(path: Path) -> int:
    """Records in the file, parsed one rank group (line) at a time."""
    records = 0
    with path.open("rb") as lines:
        for line in lines:
            text = line.strip().rstrip(b",")
            if text not in (b"[", b"]", b""):
                records += len(orjson.loads(text.replace(ESCAPE, PLAIN)))
    return records


def main() -> None:
    """Parse the file, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    records = parse_whole(args.file) if args.whole else parse_lines(args.file)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "records": records, "peak_rss_mib": peak}))


if __name__ == "__main__":
    main()
