"""Execute the course notebooks top to bottom and save them with their outputs.

    python tools/execute_notebooks.py [notebooks/07_training_sgd.ipynb ...]

Each notebook runs in a fresh kernel from its own folder (execution counts
1, 2, 3, ...), with a finite timeout per cell. Widget state is saved in the
notebook so static viewers can show the sliders; the random widget model ids
are then renamed deterministically, so that re-running an unchanged notebook
changes as few lines as possible.
"""

import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# seconds; nbclient sometimes stalls a widget cell for exactly this long (NOTEBOOK_CI.md)
CELL_TIMEOUT = 90


def rename_widget_ids(text):
    """Replace each 32-hex-digit widget model id by a counter, in order of appearance."""
    mapping = {}

    def stable(match):
        key = match.group(0)
        if key not in mapping:
            mapping[key] = f"{len(mapping) + 1:032x}"
        return mapping[key]

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", stable, text)


def execute(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            store_widget_state=True, record_timing=False)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if not nb.metadata.get("widgets"):  # no widgets: no empty state block
        nb.metadata.pop("widgets", None)
    text = rename_widget_ids(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True))
    path.write_text(text + "\n", encoding="utf-8")
    return seconds


def main(argv):
    paths = [Path(p) for p in argv] or (
        sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        + sorted((ROOT / "notebooks" / "instructor").glob("*.ipynb")))
    total = 0.0
    for path in paths:
        seconds = execute(path.resolve())
        total += seconds
        print(f"{seconds:6.1f} s  {path.name}", flush=True)
    print(f"{total:6.1f} s  total")


if __name__ == "__main__":
    main(sys.argv[1:])
