"""Several PostgreSQL writer processes against one database: 4 writers beside 1.

Each writer is an OS process (``multiprocessing``, spawn) with its own ledger connection and its
own pledges (new ones every round), so their commands are independent: it alternately disburses
1.00 yuan against one of its pledges and confirms that disbursement (three events per pair).
After a warm-up command, all writers of a round start together; a round's throughput is all its
commands over the time from the first start to the last finish. Baseline, in the same run: one
writer alone. Rounds of 1, 2 and 4 writers are interleaved and repeated (``--repeat``); the
medians are compared. Each round also shows the CPU the writers and the server used and how busy
the whole machine was (on a shared machine other work takes CPU from both). Afterwards every
command must be in the commands index exactly once.

Target (issue 7): four PostgreSQL writers >= 1.3x one.

    .venv/bin/python -m benchmarks.bench_pg_writers [--commands 400] [--durable]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aidledger
from benchmarks.common import Figure, median, postgres_server, print_header

TARGET_RATIO = 1.3
WRITERS = (1, 2, 4)
PLEDGES_PER_WRITER = 8
DAY = date(2025, 12, 31)


def seed(url: str, pledges: int) -> list[str]:
    """One donor, one project, and ``pledges`` pledges to it (ids as strings)."""
    with aidledger.open(url, recorded_by="bench-seed (synthetic)") as ledger:
        donor = ledger.register_organization(
            command_id="org-writers",
            name="并发写入测试基金会（虚构示例）",
            kind="foundation",
            level="national",
            home_region="110000",
            effective_on=DAY,
        ).aggregate_id
        project = ledger.register_project(
            command_id="prj-writers",
            title="并发写入测试项目（虚构示例）",
            implementing_organization_id=donor,
            region="130722",
            category="capacity",
            field="industry",
            planned_start=DAY,
            planned_end=DAY,
            effective_on=DAY,
        ).aggregate_id
        return [
            str(
                ledger.make_pledge(
                    command_id=f"pl-writers-{number}",
                    donor_id=donor,
                    project_id=project,
                    amount="100000000.00",
                    effective_on=DAY,
                ).aggregate_id
            )
            for number in range(pledges)
        ]


def write(ledger: aidledger.AidLedger, name: str, pledges: list[str], commands: int) -> int:
    """Disburse and confirm alternately; returns the events stored."""
    events, last = 0, None
    for number in range(commands):
        if last is None:
            receipt = ledger.disburse(
                command_id=f"{name}-{number}", pledge_id=pledges[number % len(pledges)], amount="1.00", effective_on=DAY
            )
            last = receipt.aggregate_id
        else:
            receipt = ledger.confirm_disbursement(command_id=f"{name}-{number}", disbursement_id=last, effective_on=DAY)
            last = None
        events += len(receipt.positions)
    return events


def writer_process(
    url: str, name: str, pledges: list[str], commands: int, barrier: Any, sampled: Any, results: Any
) -> None:
    """One writer: warm up, wait for the others, write, report (start, finish, commands, events, CPU)."""
    with aidledger.open(url, recorded_by=f"{name} (synthetic)") as ledger:
        write(ledger, f"{name}-warmup", pledges, 2)
        barrier.wait()
        started, cpu = time.perf_counter(), time.process_time()
        events = write(ledger, name, pledges, commands)
        finished, cpu = time.perf_counter(), time.process_time() - cpu
        results.put((started, finished, commands, events, cpu))
        sampled.wait(timeout=600)  # keep its server process, and so its CPU time, until measured


def server_cpu(postmaster: int) -> float:
    """CPU seconds used so far by the server: its postmaster and that postmaster's children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        pid, rest = int(text.split(" ", 1)[0]), text.rsplit(")", 1)[1].split()
        if pid == postmaster or int(rest[1]) == postmaster:  # rest: state, ppid, ..., utime, stime
            total += (int(rest[11]) + int(rest[12])) / ticks
    return total


def busy_cpus() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [float(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class Round:
    """What one round of writers did."""

    writers: int
    seconds: float
    commands: int
    events: int
    writer_cpu: float
    """CPU seconds the writer processes spent."""
    server_cores: float
    """CPU cores the PostgreSQL server used while every writer was writing."""
    machine_busy: float
    """Share of the machine's CPUs busy during the round, with anything else that ran."""

    @property
    def rate(self) -> float:
        """Commands per second."""
        return self.commands / self.seconds


def run_round(
    url: str,
    pledges: list[str],
    writers: int,
    commands: int,
    label: str,
    postmaster: int,
    waits: Counter[str] | None = None,
) -> Round:
    """``writers`` processes at once, each on its own ``PLEDGES_PER_WRITER`` of ``pledges``.

    Every round gets pledges no round used before: a pledge's every disbursement is one more
    event to read each time it is loaded, so reused pledges would make later rounds slower.
    """
    context = multiprocessing.get_context("spawn")
    barrier, sampled, results = context.Barrier(writers + 1), context.Event(), context.Queue()
    processes = [
        context.Process(
            target=writer_process,
            args=(
                url,
                f"{label}-w{writer}",
                pledges[writer * PLEDGES_PER_WRITER : (writer + 1) * PLEDGES_PER_WRITER],
                commands,
                barrier,
                sampled,
                results,
            ),
        )
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()  # this process releases them all at once
    busy, total, server, started = *busy_cpus(), server_cpu(postmaster), time.perf_counter()
    if waits is not None:
        sample_waits(url, results, waits)
    reports = [results.get(timeout=1800)]
    busy_first, total_first = busy_cpus()  # while every writer was still writing
    server = (server_cpu(postmaster) - server) / (time.perf_counter() - started)
    sampled.set()
    reports += [results.get(timeout=1800) for _ in processes[1:]]
    for process in processes:
        process.join()
        assert process.exitcode == 0, f"a writer failed (exit {process.exitcode})"
    seconds = max(r[1] for r in reports) - min(r[0] for r in reports)
    return Round(
        writers,
        seconds,
        sum(r[2] for r in reports),
        sum(r[3] for r in reports),
        sum(r[4] for r in reports),
        server,
        (busy_first - busy) / max(1.0, total_first - total),
    )


def sample_waits(url: str, results: Any, waits: Counter[str]) -> None:
    """Until a writer finishes, count what the writers' busy server processes do, every 20 ms.

    Busy: not idle between transactions (each writer's connection pool also holds idle ones).
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        while results.empty():
            for state, kind, event in connection.execute(
                "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND state <> 'idle'"
            ):
                if state == "active" and kind is None:
                    waits["running a statement"] += 1
                elif kind == "Lock":
                    waits[f"waiting for a lock ({event})"] += 1
                elif event == "ClientRead":
                    waits[f"waiting for its client ({state})"] += 1  # a round trip, or the client computing
                else:
                    waits[f"{state}: {kind or ''} {event or ''}".strip()] += 1
            time.sleep(0.02)


def count_commands(url: str) -> int:
    """Rows in the commands index."""
    import psycopg

    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*), count(DISTINCT command_id) FROM aidledger_commands").fetchone()
    assert row is not None and row[0] == row[1]
    return int(row[0])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the writers benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=400, help="commands per writer per round")
    parser.add_argument("--durable", action="store_true", help="fsync on (default: the test server's fsync off)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each writer count (the median is shown)")
    parser.add_argument(
        "--sample-waits", action="store_true", help="sample what the server processes wait for (costs some CPU)"
    )
    args = parser.parse_args(argv)
    kind = "durable commits" if args.durable else "fsync off"
    print_header(f"PostgreSQL writers ({kind}), {args.commands} commands per writer")
    from tests.support.postgres_server import PostgresUnavailable

    try:
        with postgres_server(durable=args.durable) as server:
            url = server.create_database("bench_writers")
            postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
            pledges = iter(seed(url, args.repeat * sum(WRITERS) * PLEDGES_PER_WRITER))
            rounds: dict[int, list[Round]] = {n: [] for n in WRITERS}
            waits: dict[int, Counter[str]] = {n: Counter() for n in WRITERS}
            for repeat in range(args.repeat):  # interleaved, so a change of load hits every count alike
                for n in WRITERS:
                    fresh = [next(pledges) for _ in range(n * PLEDGES_PER_WRITER)]
                    sampled = waits[n] if args.sample_waits else None
                    rounds[n].append(run_round(url, fresh, n, args.commands, f"r{repeat}n{n}", postmaster, sampled))
            seeded = 2 + args.repeat * sum(WRITERS) * PLEDGES_PER_WRITER
            expected = seeded + args.repeat * sum(n * (args.commands + 2) for n in WRITERS)
            stored = count_commands(url)
    except PostgresUnavailable as error:
        print(f"[writers] PostgreSQL skipped: {error}")
        return 0
    assert stored == expected, (stored, expected)
    print(f"every command is in the commands index exactly once ({stored:,} rows)")
    for n, done in rounds.items():
        for one_round in done:
            print(
                f"  {n} writer(s): {one_round.rate:6.1f} commands/s; CPU cores used by the writers "
                f"{one_round.writer_cpu / one_round.seconds:.2f}, by the server {one_round.server_cores:.2f}; "
                f"machine busy {one_round.machine_busy:.0%} of its {os.cpu_count()} cores"
            )
    for n, counted in waits.items():
        if counted:
            shares = ", ".join(f"{what} {count / counted.total():.0%}" for what, count in counted.most_common())
            print(f"  {n} writer(s), their busy server processes ({counted.total():,} samples): {shares}")
    one = median([r.rate for r in rounds[1]])
    for n, done in rounds.items():
        rate = median([r.rate for r in done])
        commands, events, seconds = done[0].commands, done[0].events, median([r.seconds for r in done])
        Figure(
            "writers",
            f"{n} PostgreSQL writer(s), {kind}, median of {len(done)} rounds "
            f"({commands:,} commands, {events:,} events in {seconds:.1f} s)",
            rate,
            "commands/s",
            None if n == 1 else one,
            "" if n == 1 else "1 writer",
            "" if n != 4 else f">= {TARGET_RATIO}x 1 writer",
            None if n != 4 else rate >= TARGET_RATIO * one,
            f"{rate * events / commands:,.0f} events/s; writers + server used "
            f"{median([(r.writer_cpu / r.seconds + r.server_cores) for r in done]):.2f} cores, "
            f"machine busy {median([r.machine_busy for r in done]):.0%}",
        ).show()
    return 0


if __name__ == "__main__":
    sys.exit(main())
