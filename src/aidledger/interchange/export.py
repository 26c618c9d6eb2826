"""Export the ledger's views as JSON or CSV, and its projects as IATI activity XML (docs/export.md).

Views:

- ``totals`` — a totals report (every stage column), grouped by any dimensions;
- ``project``, ``organization``, ``county`` — the public transparency pages, one per subject
  (or one page with ``subject``);
- ``events`` — the history as command records, in the import format (JSON Lines or CSV), so
  an export can be imported again.

Every export names the coordinates it was taken at: the log position and, when the ledger
keeps them, the Merkle root of the log up to it (a checkpoint), plus any recorded-before time
and effective-on date. JSON carries them in ``coordinates``; CSV in the note columns
``#as_of_position``, ``#as_of_recorded_before``, ``#as_of_effective_on``, ``#as_of_root`` (and
``#report_digest``), which an import ignores; JSON Lines in a first note record ``{"#export": ...}``;
IATI XML in ``aidledger:`` attributes of ``iati-activities``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, TextIO

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.application.references import resolve_reference
from aidledger.canonical import json_text
from aidledger.domain import divisions
from aidledger.errors import InvalidInput
from aidledger.interchange.csvformat import COLUMNS, SpreadsheetWriter, cells_from_record
from aidledger.interchange.history import history_records
from aidledger.interchange.iati import write_iati
from aidledger.projections.columns import COLUMNS as STAGE_COLUMNS
from aidledger.projections.fold import AsOf, LedgerFold
from aidledger.projections.report import Coordinates, Report, coordinates_of
from aidledger.projections.totals import TOTAL_KEYS, TotalsReport, published_rows
from aidledger.projections.transparency import (
    CountyPage,
    CurrencyTotals,
    InKindItem,
    OrganizationPage,
    PledgeLine,
    ProjectPage,
)

__all__ = [
    "COORDINATE_COLUMNS",
    "FORMATS",
    "VIEWS",
    "Export",
    "export",
    "pages",
    "subjects",
]

VIEWS = ("totals", "project", "organization", "county", "events")
FORMATS = ("json", "csv", "iati")
COORDINATE_COLUMNS = (
    "#as_of_position",
    "#as_of_recorded_before",
    "#as_of_effective_on",
    "#as_of_root",
    "#report_digest",
)
"""Note columns every CSV export ends with: where in history it was taken."""

LABELLED = ("donor", "channel", "implementer", "project")
"""Totals dimensions whose keys are ids: a ``<dimension>_name`` column gives the name."""

REGION_DIMENSIONS = ("county", "city", "province", "donor_province")
"""Totals dimensions whose keys are division codes: a ``<dimension>_name`` column gives the
ministry's name (``aidledger.domain.divisions``; empty for a code in no list)."""


class Export:
    """One export: the ledger's fold at the coordinates, and the options of the view."""

    def __init__(
        self,
        ledger: AidLedger,
        *,
        view: str = "totals",
        group_by: Iterable[str] = (),
        subject: str | None = None,
        on: date | str | None = None,
        position: int | None = None,
        recorded_before: datetime | str | None = None,
        effective_on: date | str | None = None,
    ) -> None:
        if view not in VIEWS:
            raise InvalidInput("view", view, "one of " + ", ".join(VIEWS))
        self.ledger = ledger
        self.view = view
        self.group_by = tuple(group_by)
        if self.group_by and view != "totals":
            raise InvalidInput("--by", ",".join(self.group_by), "grouping only with --view totals")
        if subject is not None and view not in ("project", "organization", "county"):
            raise InvalidInput("--subject", subject, "a subject only with --view project, organization or county")
        if view == "events" and (recorded_before is not None or effective_on is not None):
            raise InvalidInput(
                "--view events", "with --recorded-before/--effective-on", "only --position (the log is exported as is)"
            )
        self.subject = subject
        self.on = projections.as_of(effective_on=on).effective_on if on is not None else None
        self.as_of = projections.as_of(position, recorded_before, effective_on)
        self.fold: LedgerFold = projections.fold_of(ledger)
        self.coordinates: Coordinates = coordinates_of(self.fold, self.as_of)

    # -- JSON ---------------------------------------------------------------------------------

    def write_json(self, out: TextIO) -> None:
        """The view as one JSON document (the events view: JSON Lines, a note record first)."""
        if self.view == "events":
            out.write(_json_line({"#export": {"view": "events", "coordinates": self._coordinates_json()}}))
            for record in history_records(self.ledger, position=self.coordinates.position):
                out.write(_json_line(record))
            return
        if self.view == "totals":
            data: Any = self.totals().model_dump(mode="json")
        elif self.subject is not None:
            data = self.page(self.subject).model_dump(mode="json")
        else:
            data = {
                "report": f"{self.view}_pages",
                "coordinates": self._coordinates_json(),
                "pages": [page.model_dump(mode="json") for page in self.pages()],
            }
        out.write(json_text(data, indent=2) + "\n")

    # -- CSV ----------------------------------------------------------------------------------

    def write_csv(self, out: TextIO) -> None:
        """The view as CSV: one row per record, note columns naming the coordinates at the end."""
        writer = SpreadsheetWriter(out, lineterminator="\r\n")  # formula-like text quoted (docs/export.md)
        if self.view == "events":
            writer.writerow([*COLUMNS, *COORDINATE_COLUMNS])
            notes = self._coordinate_cells(digest="")
            for record in history_records(self.ledger, position=self.coordinates.position):
                cells = cells_from_record(record)
                writer.writerow([*(cells.get(column, "") for column in COLUMNS), *notes])
            return
        if self.view == "totals":
            self._write_totals(writer, self.totals())
            return
        header, rows = _PAGE_ROWS[self.view]
        writer.writerow([*header, "currency", *STAGE_COLUMNS, "fulfilment_rate", *COORDINATE_COLUMNS])
        chosen = [self.page(self.subject)] if self.subject is not None else self.pages()
        for page in chosen:
            notes = self._coordinate_cells(digest=page.digest)
            for currency_totals in page.totals or (None,):
                writer.writerow([*rows(page), *_currency_cells(currency_totals), *notes])

    def _write_totals(self, writer: Any, report: TotalsReport) -> None:
        labelled = [name for name in report.group_by if name in LABELLED]
        regions = [name for name in report.group_by if name in REGION_DIMENSIONS]
        counts = ("pledges", "projects", "organizations", "counties", "person_times", "households", "persons")
        writer.writerow(
            [
                "row",
                "flow",
                *report.group_by,
                *(f"{n}_name" for n in labelled),
                *(f"{n}_name" for n in regions),
                "currency",
                *STAGE_COLUMNS,
                *counts,
                *COORDINATE_COLUMNS,
            ]
        )
        notes = self._coordinate_cells(digest=report.digest)
        for published in published_rows(report):
            kind, flow, row, shown = published
            key = [row.key.get(name, TOTAL_KEYS[kind]) for name in report.group_by]
            names = [report.labels.get(row.key.get(name, ""), "") for name in labelled]
            names += [divisions.name_of(row.key.get(name)) or "" for name in regions]
            figures = [_text(shown[c]) for c in STAGE_COLUMNS]
            numbers = [getattr(row, c) for c in counts] if published.counted else [""] * len(counts)
            writer.writerow([kind, flow, *key, *names, row.currency, *figures, *numbers, *notes])

    # -- the views ----------------------------------------------------------------------------

    def totals(self) -> TotalsReport:
        """The totals report of the view."""
        return projections.totals(self.fold, self.group_by, **self._coordinate_options())

    def page(self, subject: str) -> ProjectPage | OrganizationPage | CountyPage:
        """The page of one project, organization (id or creating command id) or county."""
        if self.view in ("project", "organization"):
            subject = str(resolve_reference(self.view, subject))
        return projections.transparency(
            self.fold,
            self.view,
            subject,
            on=self.on if self.view == "organization" else None,
            **self._coordinate_options(),
        )

    def pages(self) -> list[ProjectPage | OrganizationPage | CountyPage]:
        """The pages of every subject known at the coordinates."""
        return list(pages(self.fold, self.view, self.as_of, on=self.on))

    def _coordinate_options(self) -> dict[str, Any]:
        return {
            "position": self.as_of.position,
            "recorded_before": self.as_of.recorded_before,
            "effective_on": self.as_of.effective_on,
        }

    def _coordinates_json(self) -> Any:
        return self.coordinates.model_dump(mode="json")

    def _coordinate_cells(self, *, digest: str) -> list[str]:
        c = self.coordinates
        return [
            str(c.position),
            c.recorded_before.isoformat() if c.recorded_before else "",
            c.effective_on.isoformat() if c.effective_on else "",
            c.root or "",
            digest,
        ]


def subjects(fold: LedgerFold, view: str, as_of: AsOf) -> list[str]:
    """The projects, organizations or counties known at the coordinates, in a stable order."""
    if view == "project":
        projects = [p for p in fold.projects.values() if as_of.knows(p.position, p.recorded_at)]
        return [str(p.id) for p in sorted(projects, key=lambda p: (p.plan.title, str(p.id)))]
    if view == "organization":
        named: list[tuple[str, str]] = []
        for record in fold.organizations.values():
            found = record.at(as_of)
            if found is not None:
                named.append((found[0].name, str(record.id)))
        return [organization_id for _, organization_id in sorted(named)]
    regions = {
        p.plan.region
        for p in fold.projects.values()
        if p.plan.region is not None and not p.plan.pooled_fund and as_of.knows(p.position, p.recorded_at)
    }
    return sorted(regions)


def pages(
    fold: LedgerFold, view: str, as_of: AsOf, *, on: date | None = None
) -> Iterator[ProjectPage | OrganizationPage | CountyPage]:
    """The page of every subject of ``view`` at the coordinates."""
    for subject in subjects(fold, view, as_of):
        yield projections.transparency(
            fold,
            view,
            subject,
            on=on if view == "organization" else None,
            position=as_of.position,
            recorded_before=as_of.recorded_before,
            effective_on=as_of.effective_on,
        )


def export(
    ledger: AidLedger,
    out: TextIO,
    *,
    file_format: str = "json",
    view: str | None = None,
    group_by: Iterable[str] = (),
    subject: str | None = None,
    on: date | str | None = None,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
    reporting_org: str | None = None,
) -> Coordinates:
    """Write a view of ``ledger`` to ``out`` as ``json``, ``csv`` or ``iati``; returns its coordinates.

    ``view`` defaults to ``totals``, and to ``project`` (the only one IATI has) for ``iati``.
    """
    if file_format not in FORMATS:
        raise InvalidInput("--format", file_format, "one of " + ", ".join(FORMATS))
    if file_format == "iati":
        if view not in (None, "project"):
            raise InvalidInput("--view", view, "project (IATI activities are projects)")
        return write_iati(
            ledger,
            out,
            reporting_org=reporting_org,
            position=position,
            recorded_before=recorded_before,
            effective_on=effective_on,
        )
    if reporting_org is not None:
        raise InvalidInput("--reporting-org", reporting_org, "a reporting organization only with --format iati")
    job = Export(
        ledger,
        view=view or "totals",
        group_by=group_by,
        subject=subject,
        on=on,
        position=position,
        recorded_before=recorded_before,
        effective_on=effective_on,
    )
    if file_format == "json":
        job.write_json(out)
    else:
        job.write_csv(out)
    return job.coordinates


def _json_line(data: Any) -> str:
    return json_text(data) + "\n"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return str(value)


def _currency_cells(totals: CurrencyTotals | None) -> list[str]:
    if totals is None:
        return ["", *("" for _ in STAGE_COLUMNS), ""]
    return [totals.currency, *(_text(totals.columns[c]) for c in STAGE_COLUMNS), _text(totals.fulfilment_rate)]


def _project_cells(page: Report) -> list[str]:
    assert isinstance(page, ProjectPage)
    beneficiaries = page.beneficiaries or {}
    return [
        *(_text(getattr(page, name)) for name in _PROJECT_FIELDS),
        _place(page.region),
        str(len(page.pledges)),
        *(_text(beneficiaries.get(name)) for name in ("person_times", "households", "persons")),
        str(len(page.disclosures)),
        ";".join(_item(line, item) for line in page.pledges for item in line.items),
    ]


def _item(line: PledgeLine, item: InKindItem) -> str:
    """An in-kind item as ``description|quantity|unit|value currency``: the import's items form (same
    escapes), then the value of the pledge that gives it."""
    described = cells_from_record({"items": [item.model_dump(mode="json")]})["items"]
    return f"{described}|{line.columns['pledged']} {line.currency}"


def _place(code: str | None) -> str:
    """``河北省 张家口市 张北县`` for a county code; empty for none or an unknown code."""
    names = [d.name for d in divisions.place(code) if d is not None] if code else []
    return " ".join(dict.fromkeys(names))


def _organization_cells(page: Report) -> list[str]:
    assert isinstance(page, OrganizationPage)
    record = ";".join(f"{status}:{count}" for status, count in page.disclosure_record.items())
    return [
        *(_text(getattr(page, name)) for name in _ORGANIZATION_FIELDS),
        _place(page.home_region),
        str(len(page.pledges)),
        record,
        ";".join(_item(line, item) for line in page.pledges for item in line.items),
    ]


def _county_cells(page: Report) -> list[str]:
    assert isinstance(page, CountyPage)
    return [page.county, _place(page.county), str(len(page.projects))]


_PROJECT_FIELDS = (
    "project_id",
    "title",
    "implementer",
    "region",
    "pooled_fund",
    "category",
    "field",
    "campaigns",
    "planned_start",
    "planned_end",
    "status",
)
_ORGANIZATION_FIELDS = (
    "organization_id",
    "name",
    "kind",
    "level",
    "home_region",
    "charity",
    "public_fundraising",
    "deregistered_on",
)
_PAGE_ROWS: dict[str, tuple[tuple[str, ...], Any]] = {
    "project": (
        (*_PROJECT_FIELDS, "region_name", "pledges", "person_times", "households", "persons", "disclosures", "items"),
        _project_cells,
    ),
    "organization": (
        (*_ORGANIZATION_FIELDS, "home_region_name", "pledges", "disclosure_record", "items"),
        _organization_cells,
    ),
    "county": (("county", "county_name", "projects"), _county_cells),
}
"""Per page view: the leading CSV columns and the function giving a page's cells."""
