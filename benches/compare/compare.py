"""Checks that every engine's output of one job holds the same rows.

    python compare.py JOB FILE...      (JSON Lines; exit 1 when any file differs from the first)

Rows are normalised before comparing: keys sorted, integral numbers as ints, then the rows
sorted, so row order and column order do not matter but every value does.
"""
import json
import sys


def normalised(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                row = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                       for k, v in row.items()}
                rows.append(json.dumps(row, sort_keys=True))
    rows.sort()
    return rows


job, files = sys.argv[1], sys.argv[2:]
first = normalised(files[0])
same = True
for other in files[1:]:
    rows = normalised(other)
    if rows != first:
        same = False
        missing = sorted(set(first) - set(rows))[:3]
        extra = sorted(set(rows) - set(first))[:3]
        print(f"{job}: {other} differs from {files[0]} ({len(rows)} rows against {len(first)})")
        for r in missing:
            print(f"  only in {files[0]}: {r}")
        for r in extra:
            print(f"  only in {other}: {r}")
print(f"{job}: {len(first)} rows, {'identical in every engine' if same else 'MISMATCH'}")
sys.exit(0 if same else 1)
