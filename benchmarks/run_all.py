"""Run every benchmark and print each figure beside its baseline, with its target and PASS/MISS.

``make bench`` runs this (``.venv/bin/python benchmarks/run_all.py``). Each benchmark runs as its
own process (``python -m benchmarks.<name>``) from the repository root; their figures are
collected and printed again at the end as one summary. The national ledger file is built once and
cached in ``bench-output/`` (gitignored). Every history is SYNTHETIC.

    .venv/bin/python benchmarks/run_all.py                 # full size: about 10 minutes, 3 more the first time
    .venv/bin/python benchmarks/run_all.py --scale 0.02    # a quick try: about 2 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench-output"
BENCHMARKS = ("import", "rebuild", "latency", "asof", "writers", "verify")


def steps(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The benchmark processes to run, in order (rebuild makes the file latency and asof use)."""
    scale = ["--factor", str(args.scale)]
    postgres = ["--postgres-factor", str(0.2 * args.scale), "--durable-factor", str(0.03 * args.scale)]
    plan = [
        ("import", ["benchmarks.bench_import", *scale, *(["--no-postgres"] if args.skip_postgres else postgres)]),
        ("rebuild", ["benchmarks.bench_rebuild", *scale]),
        ("latency", ["benchmarks.bench_latency", *scale, "--commands", str(args.commands)]),
        ("asof", ["benchmarks.bench_asof", *scale]),
    ]
    if not args.skip_postgres:
        plan += [
            ("writers", ["benchmarks.bench_pg_writers", "--commands", str(args.writer_commands)]),
            ("writers", ["benchmarks.bench_pg_writers", "--commands", str(args.writer_commands // 4), "--durable"]),
        ]
    if (ROOT / "benchmarks" / "bench_verify.py").exists():  # written separately; prints its own figures
        events = str(max(10_000, round(1_000_000 * args.scale)))
        plan.append(("verify", ["benchmarks.bench_verify", "--events", events]))
    if args.national_import:
        target = OUTPUT / f"national{'' if args.scale == 1 else f'-x{args.scale:g}'}-commands.db"
        plan.insert(
            0,
            ("import", ["benchmarks.build_ledger", *scale, "--method", "commands", "--db", str(target)]),
        )
    wanted = set(args.only or BENCHMARKS)
    return [(name, command) for name, command in plan if name in wanted]


def summary(results: Path) -> None:
    """Print every collected figure again, grouped, with the count of misses."""
    if not results.exists():
        return
    figures = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    print("\n== summary ==")
    for figure in figures:
        baseline = ""
        if figure["baseline"] is not None:
            baseline = f" | baseline {figure['baseline_name']}: {figure['baseline']:,.4g}"
        target = f" | target {figure['target']}" if figure["target"] else ""
        print(
            f"{figure['verdict']:>4}  [{figure['benchmark']}] {figure['name']}: "
            f"{figure['value']:,.4g} {figure['unit']}{baseline}{target}"
        )
    judged = [f for f in figures if f["verdict"] != "-"]
    misses = [f for f in judged if f["verdict"] == "MISS"]
    print(f"{len(judged) - len(misses)} of {len(judged)} targets met; see docs/performance.md for why any is missed.")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of full size, e.g. 0.02 for a quick try")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--skip-postgres", action="store_true", help="leave out every PostgreSQL figure")
    parser.add_argument("--commands", type=int, default=50, help="commands timed by the latency benchmark")
    parser.add_argument("--writer-commands", type=int, default=400, help="commands per PostgreSQL writer")
    parser.add_argument(
        "--national-import",
        action="store_true",
        help="also import the whole national history through the command API (slow: see docs/performance.md)",
    )
    args = parser.parse_args(argv)
    OUTPUT.mkdir(exist_ok=True)
    results = OUTPUT / "results.jsonl"
    results.unlink(missing_ok=True)
    environment = os.environ | {"AIDLEDGER_BENCH_RESULTS": str(results)}
    subprocess.run([sys.executable, "-c", _MACHINE], cwd=ROOT, env=environment, check=True)
    started = time.perf_counter()
    failed = []
    for name, command in steps(args):
        print(f"\n$ python -m {' '.join(command)}", flush=True)
        begun = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=environment, check=False)
        print(f"({name}: {time.perf_counter() - begun:.0f} s)", flush=True)
        if completed.returncode != 0:
            failed.append(name)
    summary(results)
    print(f"all benchmarks: {time.perf_counter() - started:.0f} s" + (f"; FAILED: {failed}" if failed else ""))
    return 1 if failed else 0


_MACHINE = """
import json
from benchmarks.common import machine
print("machine: " + json.dumps(machine(), ensure_ascii=False))
"""

if __name__ == "__main__":
    sys.exit(main())
