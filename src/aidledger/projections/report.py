"""What every report carries: its coordinates and a digest of its canonical JSON."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from aidledger.canonical import canonical_json
from aidledger.errors import InvalidInput
from aidledger.projections.fold import AsOf, LedgerFold

__all__ = ["Coordinates", "Report", "coordinates_of", "without_donation_flow"]


class Coordinates(BaseModel):
    """Where in history a report was computed: the log position and optional time bounds."""

    model_config = ConfigDict(frozen=True)

    position: int
    """Events at or before this log position were read."""
    recorded_before: datetime | None = None
    """Only events the ledger recorded before this time (UTC) counted."""
    effective_on: date | None = None
    """Only what happened in the world on or before this date counted."""
    root: str | None = None
    """Hex Merkle root (DESIGN §5) of the events at or before ``position``: the checkpoint the
    report was computed at. ``None``, and left out of the JSON, for a fold with no ledger behind it."""

    @model_serializer(mode="wrap")
    def _leave_out_missing_root(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Reports of a bare fold keep exactly the JSON, and so the digest, they had before roots.
        data = handler(self)
        if isinstance(data, dict) and data.get("root") is None:
            data.pop("root", None)
        return data


def coordinates_of(fold: LedgerFold, as_of: AsOf) -> Coordinates:
    """The coordinates a report computed from ``fold`` at ``as_of`` names."""
    if as_of.position is not None and as_of.position > fold.position:
        raise InvalidInput("position", as_of.position, f"a log position from 0 to {fold.position}, the last one stored")
    position = fold.position if as_of.position is None else as_of.position
    root_of = fold.root_of
    return Coordinates(
        position=position,
        recorded_before=as_of.recorded_before,
        effective_on=as_of.effective_on,
        root=root_of(position) if root_of is not None else None,
    )


class Report(BaseModel):
    """Base of every report: coordinates, and a SHA-256 digest of the canonical JSON of the rest."""

    model_config = ConfigDict(frozen=True)

    report: str
    coordinates: Coordinates
    digest: str = ""

    def body(self) -> dict[str, Any]:
        """The report as JSON-ready data, without its digest."""
        return self.model_dump(mode="json", exclude={"digest"})

    def figures_digest(self) -> str:
        """SHA-256 of the report without its digest, log position and Merkle root.

        ``digest`` binds the figures to the exact history they were computed from: its position
        and root, and the root covers when each event was recorded. Two ledgers holding the same
        commands recorded at other times (a clean import and one that crashed and was run again)
        give the same figures; on PostgreSQL their positions can differ too, since a transaction
        killed half way uses up sequence numbers. ``figures_digest`` is equal for both.
        """
        body = self.body()
        body["coordinates"].pop("root", None)
        body["coordinates"].pop("position", None)
        return hashlib.sha256(canonical_json(body)).hexdigest()

    def canonical(self) -> bytes:
        """Canonical JSON bytes of the whole report, digest included."""
        return canonical_json(self.model_dump(mode="json"))

    def sealed(self) -> Any:
        """A copy with ``digest`` set to SHA-256 of the canonical JSON of the body."""
        digest = hashlib.sha256(canonical_json(self.body())).hexdigest()
        return self.model_copy(update={"digest": digest})


def without_donation_flow(data: Any) -> Any:
    """A line's or an explanation's JSON without ``flow`` when it is ``donation``: what counted before
    flows existed keeps exactly its JSON, and so its digest (DESIGN §3 rule 8 adds the other flows)."""
    if isinstance(data, dict) and data.get("flow") == "donation":
        data.pop("flow")
    return data
