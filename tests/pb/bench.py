"""Times pabutools 1.2.3 on .pb files, one line per rule, as `gongzhi bench pb` does for gongzhi.

Usage: bench.py FILE... ; prints a JSON line per file with seconds per rule (or "timeout").
"""
import json
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from crosscheck import pabutools_count_with_timeout  # noqa: E402

TIMEOUT = float(__import__("os").environ.get("PB_TIMEOUT", "900"))

for path in sys.argv[1:]:
    cumulative = "vote_type;cumulative" in open(path, encoding="utf-8").read(4000)
    rules = ["greedy", "mes"] + ([] if cumulative else ["phragmen"])
    figures = {"file": path}
    for rule in rules:
        status, value, secs = pabutools_count_with_timeout(path, rule, TIMEOUT)
        figures[rule + "_s"] = round(secs, 2) if status == "ok" else status
        print(f"  pabutools {rule:<9} {secs:8.2f} s  {status}, {len(value) if value else 0} funded", flush=True)
    print(json.dumps(figures), flush=True)
