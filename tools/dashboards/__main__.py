"""`make dashboards`: write the chart's dashboards from tools/dashboards, touching only those that changed.

A JSON file in the folder that no module renders is reported, not deleted: the chart ships every file
there, so someone should decide whether it becomes code or goes.
"""

from __future__ import annotations

import sys

from tools.dashboards import DASHBOARDS, rendered


def main() -> int:
    texts = rendered()
    for name, text in texts.items():
        path = DASHBOARDS / name
        if path.exists() and path.read_text() == text:
            print(f"unchanged {path}")
            continue
        path.write_text(text)
        print(f"wrote {path}")
    strays = sorted(p.name for p in DASHBOARDS.glob("*.json") if p.name not in texts)
    for name in strays:
        print(f"not generated: {DASHBOARDS / name} (the chart ships it; make it code or delete it)")
    return 1 if strays else 0


if __name__ == "__main__":
    sys.exit(main())
