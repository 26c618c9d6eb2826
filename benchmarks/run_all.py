"""Run every benchmark and print each figure beside its baseline, with its target and PASS/MISS.

``make bench`` runs this (``.venv/bin/python benchmarks/run_all.py``). Each benchmark runs as its
own process (``python -m benchmarks.<name>``) from the repository root; the figures they print are
collected and printed again at the end as one table. The national ledger is built once (with
``import_file``: at the import rate measured, about seven minutes more) and cached in
``bench-output/`` (gitignored), or in the folder ``--output`` or ``$AIDLEDGER_BENCH_OUTPUT`` names.
Every history is SYNTHETIC.

    .venv/bin/python benchmarks/run_all.py                 # full size: about 8 minutes once cached (2 cores)
    .venv/bin/python benchmarks/run_all.py --scale 0.05    # a quick try: about a minute
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("import", "rebuild", "report", "export", "latency", "verify", "asof", "site", "writers")
OUTPUT_ENV = "AIDLEDGER_BENCH_OUTPUT"


def steps(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The benchmark processes to run, in order."""
    scale = ["--factor", str(args.scale)]
    postgres = ["--postgres-factor", str(0.2 * args.scale), "--durable-factor", str(0.03 * args.scale)]
    plan = [
        ("import", ["benchmarks.bench_import", *scale, *(["--no-postgres"] if args.skip_postgres else postgres)]),
        ("rebuild", ["benchmarks.bench_rebuild", *scale]),
        ("report", ["benchmarks.bench_report", *scale]),
        ("export", ["benchmarks.bench_export", *scale]),
        ("latency", ["benchmarks.bench_latency", *scale, "--commands", str(args.commands)]),
        ("verify", ["benchmarks.bench_verify", *scale]),
        ("asof", ["benchmarks.bench_asof", *scale]),
        ("site", ["benchmarks.bench_site", "--ledgers", "demo", "campaign", *scale]),
    ]
    if not args.skip_postgres:
        plan += [
            ("writers", ["benchmarks.bench_pg_writers", "--commands", str(args.writer_commands)]),
            ("writers", ["benchmarks.bench_pg_writers", "--commands", str(args.writer_commands // 4), "--durable"]),
        ]
    wanted = set(args.only or BENCHMARKS)
    return [(name, command) for name, command in plan if name in wanted]


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"


def summary(results: Path) -> None:
    """Print every collected figure again as one table, with the count of targets met."""
    if not results.exists():
        return
    figures: list[dict[str, Any]] = [
        json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    print("\n== summary ==")
    print("| verdict | figure | ours | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|---|")
    for figure in figures:
        unit = figure["unit"]
        baseline = ""
        if figure["baseline"] is not None:
            baseline = f"{_cell(figure['baseline'])} {unit} ({figure['baseline_name']})"
        ratio = f"{figure['ratio']:.3f}" if figure["ratio"] is not None else ""
        print(
            f"| {figure['verdict']} | [{figure['benchmark']}] {figure['name']} | {_cell(figure['value'])} {unit} "
            f"| {baseline} | {ratio} | {figure['target']} |"
        )
    judged = [figure for figure in figures if figure["verdict"] != "-"]
    missed = [figure for figure in judged if figure["verdict"] == "MISS"]
    print(f"\n{len(judged) - len(missed)} of {len(judged)} targets met, {len(missed)} missed.")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of full size, e.g. 0.05 for a quick try")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--skip-postgres", action="store_true", help="leave out every PostgreSQL figure")
    parser.add_argument("--commands", type=int, default=50, help="commands timed by the latency benchmark")
    parser.add_argument("--writer-commands", type=int, default=400, help="commands per PostgreSQL writer")
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for cached files and ledgers (default $AIDLEDGER_BENCH_OUTPUT or bench-output)",
    )
    args = parser.parse_args(argv)
    output = (args.output or Path(os.environ.get(OUTPUT_ENV, ROOT / "bench-output"))).resolve()
    output.mkdir(parents=True, exist_ok=True)
    results = output / "results.jsonl"
    results.unlink(missing_ok=True)
    environment = os.environ | {"AIDLEDGER_BENCH_RESULTS": str(results), OUTPUT_ENV: str(output)}
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
