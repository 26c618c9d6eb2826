"""Figures cannot be forged silently: edits of the stored projections, of their Merkle frontier and of
the events, made behind the library's back in a real SQLite file and a real PostgreSQL database.

A report refuses (IntegrityFailure, exit code 5) to print from stored projections that no longer
match their digests or the log (a forged amount, a changed frontier, deleted events); ``verify``
refolds the events and names the segment, record, fact or figure that differs, even when the forger
recomputed every digest; ``rebuild`` refolds the projections from the events.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from tests.audit_support import record_story

import aidledger
from aidledger import projections
from aidledger.audit.checkpoint import make_checkpoint
from aidledger.audit.verification import PROJECTION_KINDS, verify
from aidledger.cli import main
from aidledger.errors import IntegrityFailure
from aidledger.projections.state import FACT_EVENTS, segment_digest

STORES = ("sqlite-file", "postgres")


@pytest.fixture(params=STORES)
def address(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a ledger holding the story is: an SQLite file or a PostgreSQL database (closed)."""
    if request.param == "postgres":
        location: str = request.getfixturevalue("postgres_database")
    else:
        location = str(tmp_path / "ledger.db")
    with aidledger.open(location, recorded_by="auditor-test") as ledger:
        record_story(ledger)
        projections.projections_of(ledger).replace_state()  # one snapshot holding every fact
    return location


@contextmanager
def raw(address: str) -> Iterator[Callable[..., list[Any]]]:
    """Run SQL on the ledger's database with a plain connection, behind the library's back."""
    if address.startswith("postgres"):
        with psycopg.connect(address, autocommit=True) as pg:

            def run_pg(statement: str, *parameters: Any) -> list[Any]:
                cursor = pg.execute(statement.replace("?", "%s"), parameters)
                return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

            yield run_pg
        return
    with closing(sqlite3.connect(address)) as connection:

        def run_sqlite(statement: str, *parameters: Any) -> list[Any]:
            rows = connection.execute(statement, parameters).fetchall()
            connection.commit()
            return rows

        yield run_sqlite


def forge_amount(address: str, *, recompute_digest: bool) -> None:
    """Inflate one pledge's first fact, and the line reports print from, by 542,489,999.00, as a forger would."""
    with raw(address) as sql:
        ((seq, payload),) = sql("SELECT seq, payload FROM aidledger_fold WHERE kind = 'snapshot'")
        payload = bytes(payload)
        snapshot = msgspec.msgpack.decode(payload)
        assert msgspec.msgpack.encode(snapshot) == payload  # the forger can rewrite it byte for byte
        _format, _position, _organizations, _projects, _pledges, lines, _count, _disbursements, facts = snapshot
        made = next(fact for fact in facts if fact[1] == FACT_EVENTS.index("Pledge.Made"))
        made[4] += 54248999900
        lines[made[2]][made[3]] += 54248999900
        forged = msgspec.msgpack.encode(snapshot)
        sql("UPDATE aidledger_fold SET payload = ? WHERE seq = ?", forged, seq)
        if recompute_digest:
            (row,) = sql(
                "SELECT kind, first_position, position, size, root, frontier, last_leaf FROM aidledger_fold "
                "WHERE seq = ?",
                seq,
            )
            kind, first, position, size, root, frontier, last_leaf = row
            digest = segment_digest(
                "", kind, first, position, size, bytes(root), bytes(frontier), bytes(last_leaf), forged
            )
            sql("UPDATE aidledger_fold SET digest = ? WHERE seq = ?", digest, seq)


def report(address: str) -> projections.TotalsReport:
    """The ungrouped totals, in a new process's ledger."""
    with aidledger.open(address, recorded_by="reader") as ledger:
        return projections.totals(ledger, ["category"])


def test_an_untouched_ledger_verifies_with_its_projections(address: str, tmp_path: Path) -> None:
    """No edit: the stored projections are exactly the fold of the events; the checkpoint binds them."""
    with aidledger.open(address, read_only=True) as ledger:
        checkpoint, _ = make_checkpoint(ledger)
        assert checkpoint.projections == projections.projections_digest(
            projections.projections_of(ledger).rebuild().fold
        )
        result = verify(ledger, [checkpoint])
    assert result.ok, result.findings


def test_a_forged_amount_in_the_stored_projections_is_refused_by_reports_and_named_by_verify(
    address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One amount changed in the stored fold: report refuses (exit 5); verify names the fact and the figure."""
    forge_amount(address, recompute_digest=False)
    with pytest.raises(IntegrityFailure, match="stored projection state was changed"):
        report(address)
    assert main(["--db", address, "report", "--by", "category"]) == 5
    assert "IntegrityFailure" in capsys.readouterr().err
    with aidledger.open(address, read_only=True) as ledger:
        result = verify(ledger)
    kinds = {f.kind for f in result.findings}
    assert not result.ok and kinds <= PROJECTION_KINDS and "projection_state" in kinds, result.findings
    messages = [f.message for f in result.findings]
    assert any("amount: stored 542,490,999.00, events give 1,000.00" in m for m in messages), messages
    assert any(
        "figure signed CNY: the stored state gives 542,491,699.00, the events give 1,700.00" in m for m in messages
    )


def test_a_forgery_with_recomputed_digests_is_named_by_verify_against_a_checkpoint(address: str) -> None:
    """A forger who recomputes the segment's digest fools the cheap checks, not the refold nor the checkpoint."""
    with aidledger.open(address, read_only=True) as ledger:
        checkpoint, _ = make_checkpoint(ledger)
    forge_amount(address, recompute_digest=True)
    forged = report(address)  # the cheap checks pass: only a refold can tell
    with aidledger.open(address, read_only=True) as ledger:
        result = verify(ledger, [checkpoint])
    kinds = [f.kind for f in result.findings]
    assert not result.ok and "projection" in kinds and "projection_state" not in kinds, result.findings
    assert any("differs (amount: stored" in f.message for f in result.findings)
    assert forged.totals[0].columns["pledged"] != report_after_rebuild(address).totals[0].columns["pledged"]


def report_after_rebuild(address: str) -> projections.TotalsReport:
    """Refold the projections from the events (``aidledger rebuild``) and report again."""
    assert main(["--db", address, "rebuild"]) == 0
    return report(address)


def test_rebuild_replaces_forged_projections_with_the_fold_of_the_events(address: str) -> None:
    """After a forgery is found, rebuilding from the events gives the true figures and verifies."""
    true = report(address)
    forge_amount(address, recompute_digest=False)
    assert report_after_rebuild(address).figures_digest() == true.figures_digest()
    with aidledger.open(address, read_only=True) as ledger:
        assert verify(ledger).ok


def test_a_changed_frontier_is_refused_by_reports_and_named_by_verify(address: str) -> None:
    """The Merkle frontier stored with the projections, edited: reports refuse, verify names it."""
    with raw(address) as sql:
        ((seq, frontier),) = sql("SELECT seq, frontier FROM aidledger_fold")
        changed = bytes([frontier[0] ^ 1]) + bytes(frontier)[1:]
        sql("UPDATE aidledger_fold SET frontier = ? WHERE seq = ?", changed, seq)
    with pytest.raises(IntegrityFailure, match="stored projection state was changed"):
        report(address)
    with aidledger.open(address, read_only=True) as ledger:
        result = verify(ledger)
    assert {"projection_state", "frontier"} <= {f.kind for f in result.findings}, result.findings


def test_a_deleted_last_event_is_refused_by_reports(address: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The projections name a position the log no longer reaches: no report prints from them."""
    with raw(address) as sql:
        ((last,),) = sql(
            "SELECT max(rowid) FROM stored_events"
            if not address.startswith("postgres")
            else "SELECT max(notification_id) FROM stored_events"
        )
        key = "rowid" if not address.startswith("postgres") else "notification_id"
        sql(f"DELETE FROM stored_events WHERE {key} = ?", last)
    with pytest.raises(IntegrityFailure, match=f"computed at position {last}|log position {last}"):
        report(address)
    assert main(["--db", address, "report"]) == 5
    assert f"{last}" in capsys.readouterr().err


def test_a_deleted_event_in_the_middle_is_refused_by_reports(address: str) -> None:
    """Fewer events at or before the projections' position than they cover: refused on opening."""
    key = "rowid" if not address.startswith("postgres") else "notification_id"
    with raw(address) as sql:
        sql(f"DELETE FROM stored_events WHERE {key} = (SELECT min({key}) + 3 FROM stored_events)")
    with pytest.raises(IntegrityFailure, match="removed or inserted"):
        report(address)


def test_a_changed_event_is_named_by_verify_and_its_projections_flagged(address: str) -> None:
    """An event's amount changed in the log: verify names the frontier and the projections that no longer
    follow from the events (a report cannot tell without rehashing: that is verify's job)."""
    with aidledger.open(address, read_only=True) as ledger:
        checkpoint, _ = make_checkpoint(ledger)
    with raw(address) as sql:
        rows = sql("SELECT originator_id, originator_version, state FROM stored_events")
        for originator_id, version, state in rows:
            if b'"value":"1000.00"' in bytes(state):
                changed = bytes(state).replace(b'"value":"1000.00"', b'"value":"9000.00"')
                sql(
                    "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
                    changed,
                    originator_id,
                    version,
                )
                break
    with aidledger.open(address, read_only=True) as ledger:
        result = verify(ledger, [checkpoint])
    kinds = {f.kind for f in result.findings}
    assert {"mismatch", "projections", "frontier", "projection"} <= kinds, result.findings
    assert any("events give 9,000.00" in f.message for f in result.findings), result.findings


def test_the_checkpoint_file_records_the_projections_digest(address: str, tmp_path: Path) -> None:
    """`aidledger checkpoint` writes the projections digest beside the root; verify checks it."""
    path = tmp_path / "cp.json"
    assert main(["--db", address, "checkpoint", "--out", str(path)]) == 0
    written = json.loads(path.read_text(encoding="utf-8"))
    with aidledger.open(address, read_only=True) as ledger:
        fold = projections.projections_of(ledger).rebuild().fold
    assert written["projections"] == projections.projections_digest(fold)
    assert len(written["projections"]) == len(hashlib.sha256().hexdigest())
    assert main(["--db", address, "verify", "--checkpoint", str(path)]) == 0
