"""Replay: recompute a report as of a past log position and compare it, byte for byte, with one
published then.

A report names its coordinates (position, optional recorded-before time and effective-on date,
and the Merkle root of the log prefix it read) and carries a SHA-256 digest of its canonical JSON.
Every projection is a pure fold of the log, so recomputing at the same coordinates must give the
same canonical bytes: same digest, same root. :func:`replay_report` reads the parameters of any
report kind from the published JSON, recomputes it and lists where the two differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.canonical import canonical_json
from aidledger.errors import InvalidInput
from aidledger.projections.report import Report

__all__ = ["Replay", "read_report", "recompute", "replay", "replay_report"]

MAX_DIFFERENCES = 20


class Replay(BaseModel):
    """The verdict of replaying a published report."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    """The recomputed report is byte for byte the published one."""
    report: str
    position: int
    published_digest: str
    replayed_digest: str
    digest_valid: bool
    """The published digest is the SHA-256 of the published report's own content."""
    root: str | None
    """The Merkle root the replayed report names."""
    differences: tuple[str, ...]
    """JSON paths where the two differ (the first few)."""


def replay(
    ledger: AidLedger,
    position: int,
    group_by: Sequence[str] = (),
    *,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
) -> projections.TotalsReport:
    """The totals report exactly as it was at log ``position`` (``aidledger replay --to``)."""
    reached = ledger.position()
    if position > reached:
        raise InvalidInput("position", position, f"a log position the ledger has reached (it is at {reached})")
    return projections.totals(
        ledger, list(group_by), position=position, recorded_before=recorded_before, effective_on=effective_on
    )


def read_report(path: Path) -> dict[str, Any]:
    """A published report: the JSON that ``--json`` printed or ``model_dump(mode="json")`` gave."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInput("report", str(path), f"a report saved as JSON ({error})") from None
    if not isinstance(data, dict) or not {"report", "coordinates", "digest"} <= data.keys():
        raise InvalidInput("report", str(path), "a report saved as JSON, with report, coordinates and digest")
    return data


def recompute(ledger: AidLedger, published: dict[str, Any]) -> Report:
    """Compute the report ``published`` describes, at its coordinates, from the ledger."""
    kind = published.get("report")
    coordinates = published.get("coordinates") or {}
    if not isinstance(coordinates, dict) or not isinstance(coordinates.get("position"), int):
        raise InvalidInput("coordinates", coordinates, "coordinates with a log position")
    at: dict[str, Any] = {"position": coordinates["position"], "recorded_before": coordinates.get("recorded_before")}
    effective_on = coordinates.get("effective_on")
    try:
        return _recompute(ledger, str(kind), published, at, effective_on)
    except (KeyError, TypeError, IndexError) as error:
        raise InvalidInput("report", kind, f"a complete {kind} report (missing or malformed {error})") from None


def _recompute(
    ledger: AidLedger, kind: str, published: dict[str, Any], at: dict[str, Any], effective_on: str | None
) -> Report:
    if kind == "totals":
        return projections.totals(ledger, published["group_by"], effective_on=effective_on, **at)
    if kind == "disclosure":
        policies = published["policies"]
        policy = projections.DisclosurePolicy.campaign(policies[1]) if len(policies) > 1 else None
        return projections.disclosure_status(ledger, published["on"], campaign_policy=policy, **at)
    if kind == "explanation":
        return projections.explain(
            ledger, published["column"], published["key"], published["currency"], effective_on=effective_on, **at
        )
    subjects = {"project": "project_id", "organization": "organization_id", "county": "county"}
    if kind in subjects:
        on = published.get("disclosure_on")
        subject = published[subjects[kind]]
        return projections.transparency(ledger, kind, subject, on=on, effective_on=effective_on, **at)
    raise InvalidInput("report", kind, "a totals, disclosure, explanation, project, organization or county report")


def replay_report(ledger: AidLedger, published: dict[str, Any] | Path) -> Replay:
    """Recompute a published report at its coordinates and compare the canonical bytes."""
    data = read_report(published) if isinstance(published, Path) else published
    replayed = recompute(ledger, data)
    body = {name: value for name, value in data.items() if name != "digest"}
    fresh = replayed.model_dump(mode="json")
    differences = tuple(_differences(data, fresh, "$"))[:MAX_DIFFERENCES]
    return Replay(
        ok=canonical_json(data) == replayed.canonical(),
        report=str(data["report"]),
        position=replayed.coordinates.position,
        published_digest=str(data["digest"]),
        replayed_digest=replayed.digest,
        digest_valid=hashlib.sha256(canonical_json(body)).hexdigest() == data["digest"],
        root=replayed.coordinates.root,
        differences=differences,
    )


def _differences(published: Any, replayed: Any, path: str) -> Iterator[str]:
    """JSON paths at which two JSON values differ."""
    if isinstance(published, dict) and isinstance(replayed, dict):
        for name in sorted(published.keys() | replayed.keys()):
            if name not in published or name not in replayed:
                yield f"{path}.{name} ({'added' if name in replayed else 'missing'} in the replay)"
            else:
                yield from _differences(published[name], replayed[name], f"{path}.{name}")
    elif isinstance(published, list) and isinstance(replayed, list):
        if len(published) != len(replayed):
            yield f"{path} ({len(published)} items published, {len(replayed)} replayed)"
        for index, (left, right) in enumerate(zip(published, replayed, strict=False)):
            yield from _differences(left, right, f"{path}[{index}]")
    elif published != replayed:
        yield f"{path}: published {published!r}, replayed {replayed!r}"
