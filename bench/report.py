"""Print the README's performance table (Markdown) from a bench_lif.py or mini_check.py JSON file.

    python bench/report.py bench.json
    python bench/report.py mini_check.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lif import table  # noqa: E402
from mini_check import table as mini_table  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/report.py bench.json|mini_check.json")
    measured = json.loads(Path(sys.argv[1]).read_text())
    print(mini_table(measured) if "directions" in measured else table(measured))
