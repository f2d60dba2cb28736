"""Print the README's performance table (Markdown) from a bench_lif.py JSON file.

    python bench/report.py bench.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lif import table  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/report.py bench.json")
    print(table(json.loads(Path(sys.argv[1]).read_text())))
