"""A 100 MB import file is streamed: memory does not grow with the file.

The file is generated in tmp_path at test time (about 32,000 rows of 3 KB). Checking it runs
every per-row check (reading, the command model, references, command ids, staging on disk) but
not the rehearsal or the storing, which would take minutes for 100 MB: this is the validate-only
(``dry_run``, ``rehearse=False``) streaming that docs/import.md describes. It runs in a child
process so that its peak resident memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SIZE = 100_000_000
ALLOWED_GROWTH_MB = 25
"""Peak memory may grow by this much while the whole file is read: a quarter of its size."""

CHILD = """
import json, resource, sys
import aidledger
from aidledger.interchange.importer import import_file

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux

with aidledger.open(":memory:", recorded_by="tester") as ledger:
    import_file(ledger, sys.argv[2], dry_run=True, rehearse=False)  # warm up: imports, caches
    before = peak_mb()
    summary = import_file(ledger, sys.argv[1], dry_run=True, rehearse=False)
    after = peak_mb()
print(json.dumps({"rows": summary.rows_read, "valid": summary.stored, "growth": after - before}))
"""


def write_rows(path: Path, size: int) -> int:
    """Write an import file of register_organization rows of about 3 KB each, up to ``size`` bytes."""
    header = "command,command_id,effective_on,recorded_by,name,kind,level,home_region,source_reference,source_url\n"
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(header)
        written = len(header)
        while written < size:
            rows += 1
            line = (
                f"register_organization,org-{rows:07d},2018-01-05,loader,{'示例基金会' * 80}{rows:07d}（虚构）,"
                f"foundation,provincial,130000,RCPT-{rows:07d},https://example.org/synthetic/{'x' * 1800}/{rows}\n"
            )
            out.write(line)
            written += len(line.encode())
    return rows


def test_checking_a_100_megabyte_file_keeps_memory_bounded(tmp_path: Path) -> None:
    """Peak RSS grows by far less than the file's size while all of it is read and checked."""
    big = tmp_path / "big.csv"
    rows = write_rows(big, SIZE)
    small = tmp_path / "small.csv"
    write_rows(small, 10_000)
    assert big.stat().st_size >= SIZE
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(big), str(small)], capture_output=True, text=True, check=True, timeout=600
    )
    measured = json.loads(result.stdout)
    assert measured["rows"] == measured["valid"] == rows
    assert measured["growth"] < ALLOWED_GROWTH_MB, measured
