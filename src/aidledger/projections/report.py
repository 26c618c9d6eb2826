"""What every report carries: its coordinates and a digest of its canonical JSON."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from aidledger.persistence import canonical_json
from aidledger.projections.fold import AsOf, LedgerFold

__all__ = ["Coordinates", "Report", "coordinates_of"]


class Coordinates(BaseModel):
    """Where in history a report was computed: the log position and optional time bounds."""

    model_config = ConfigDict(frozen=True)

    position: int
    """Events at or before this log position were read."""
    recorded_before: datetime | None = None
    """Only events the ledger recorded before this time (UTC) counted."""
    effective_on: date | None = None
    """Only what happened in the world on or before this date counted."""


def coordinates_of(fold: LedgerFold, as_of: AsOf) -> Coordinates:
    """The coordinates a report computed from ``fold`` at ``as_of`` names."""
    position = fold.position if as_of.position is None else min(as_of.position, fold.position)
    return Coordinates(position=position, recorded_before=as_of.recorded_before, effective_on=as_of.effective_on)


class Report(BaseModel):
    """Base of every report: coordinates, and a SHA-256 digest of the canonical JSON of the rest."""

    model_config = ConfigDict(frozen=True)

    report: str
    coordinates: Coordinates
    digest: str = ""

    def body(self) -> dict[str, Any]:
        """The report as JSON-ready data, without its digest."""
        return self.model_dump(mode="json", exclude={"digest"})

    def canonical(self) -> bytes:
        """Canonical JSON bytes of the whole report, digest included."""
        return canonical_json(self.model_dump(mode="json"))

    def sealed(self) -> Any:
        """A copy with ``digest`` set to SHA-256 of the canonical JSON of the body."""
        digest = hashlib.sha256(canonical_json(self.body())).hexdigest()
        return self.model_copy(update={"digest": digest})
