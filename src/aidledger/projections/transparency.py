"""Transparency views: public pages as data, per project, per organization and per county.

Anonymous donors are never named: their pledges show as "anonymous" on project and county pages
and are left off their own organization page. No personal data of beneficiaries is stored, so
none can appear.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

import msgspec
from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)

from aidledger.domain.values import RegionCode
from aidledger.errors import InvalidInput, NotFound
from aidledger.projections.columns import derive_columns
from aidledger.projections.disclosure import owes_disclosures, project_obligations
from aidledger.projections.disclosure_rules import DisclosurePolicy
from aidledger.projections.fold import BASE_COLUMNS, AsOf, Fact, LedgerFold, PledgeRecord, ProjectRecord, money
from aidledger.projections.report import Report, coordinates_of, without_donation_flow
from aidledger.projections.totals import ANONYMOUS, pledge_lines

__all__ = [
    "CountyPage",
    "InKindItem",
    "OrganizationPage",
    "PageIndex",
    "PledgeLine",
    "ProjectPage",
    "TimelineEntry",
    "donor_name",
    "in_kind_lines",
    "transparency",
]


class PageIndex:
    """What the pages of one fold at one set of coordinates look up: pledges by project and by donor,
    projects by county and by implementer, every pledge's line, and the facts that count, by project.

    Built in one pass over the pledges, the projects and the facts; a site builds it once for all its
    pages, so each page costs in proportion to its subject, not to the ledger. ``transparency`` builds
    one per call when none is given: the pages are the same either way.
    """

    def __init__(self, fold: LedgerFold, as_of: AsOf) -> None:
        self.position = fold.position
        self.as_of = as_of
        self.by_project: dict[str, list[PledgeRecord]] = defaultdict(list)
        self.by_donor: dict[str, list[PledgeRecord]] = defaultdict(list)
        for pledge in fold.pledges.values():
            self.by_project[pledge.project_id].append(pledge)
            self.by_donor[pledge.donor_id].append(pledge)
        self.by_county: dict[str, list[ProjectRecord]] = defaultdict(list)
        self.by_implementer: dict[str, list[ProjectRecord]] = defaultdict(list)
        for project in fold.projects.values():
            if project.plan.region is not None:
                self.by_county[project.plan.region].append(project)
            self.by_implementer[project.plan.implementing_organization_id].append(project)
        self.lines = pledge_lines(fold, as_of)
        self.facts: dict[str, list[Fact]] = defaultdict(list)
        for fact in fold.matching_facts(as_of):
            self.facts[fold.pledges[fact.pledge_id].project_id].append(fact)

    def check(self, fold: LedgerFold, as_of: AsOf) -> None:
        """Refuse an index of another state of the fold or of other coordinates (a programmer's error)."""
        assert (self.position, self.as_of) == (fold.position, as_of), "a PageIndex of other coordinates"

class InKindItem(BaseModel):
    """Goods or services a pledge gives in kind: what, how many, in which unit."""

    model_config = ConfigDict(frozen=True)

    description: str
    quantity: Decimal
    unit: str


class PledgeLine(BaseModel):
    """One pledge on a public page."""

    model_config = ConfigDict(frozen=True)

    pledge_id: UUID
    donor: str
    donor_id: UUID | None
    """``None`` when the donor asked to stay anonymous."""
    project_id: UUID
    project: str
    stage: str
    form: str
    currency: str
    columns: dict[str, Decimal]
    items: tuple[InKindItem, ...] = ()
    """What an in-kind pledge gives (its value is the pledge's amount, in ``columns``)."""
    flow: str = "donation"
    """``donation``, or a flow that is not one (``investment``, ``loan``): shown on the page, never
    added to a page's totals (DESIGN §3 rule 8). Left out of the JSON for a donation."""

    @model_serializer(mode="wrap")
    def _leave_out_donation_flow(self, handler: SerializerFunctionWrapHandler) -> Any:
        return without_donation_flow(handler(self))


class TimelineEntry(BaseModel):
    """A dated line of a project's public history."""

    model_config = ConfigDict(frozen=True)

    effective_on: date
    position: int
    event: str
    detail: str


class CurrencyTotals(BaseModel):
    """Stage columns for one currency, with the fulfilment rate 到位率 = net disbursed ÷ signed."""

    model_config = ConfigDict(frozen=True)

    currency: str
    columns: dict[str, Decimal]
    fulfilment_rate: Decimal | None
    """Rounded half-even to 4 places (a ratio, not money); ``None`` when nothing was signed."""


class ProjectPage(Report):
    """A project's public page."""

    report: str = "project"
    project_id: UUID
    title: str
    implementer: str
    region: str | None
    pooled_fund: bool
    category: str
    field: str
    campaigns: tuple[str, ...]
    planned_start: date
    planned_end: date
    status: str
    pledges: tuple[PledgeLine, ...]
    totals: tuple[CurrencyTotals, ...]
    beneficiaries: dict[str, Any] | None
    disclosures: tuple[dict[str, Any], ...]
    timeline: tuple[TimelineEntry, ...]


class OrganizationPage(Report):
    """An organization's public page: its named pledges, fulfilment rate and disclosure record."""

    report: str = "organization"
    organization_id: UUID
    name: str
    kind: str
    level: str
    home_region: str
    charity: bool
    public_fundraising: bool
    deregistered_on: date | None
    pledges: tuple[PledgeLine, ...]
    totals: tuple[CurrencyTotals, ...]
    disclosure_on: date | None
    disclosure_record: dict[str, int]
    """Obligations of the projects it implements, counted by status on ``disclosure_on``."""


class CountyPage(Report):
    """A county's inflows by source, and the projects there."""

    report: str = "county"
    county: str
    projects: tuple[dict[str, Any], ...]
    by_donor_level: dict[str, tuple[CurrencyTotals, ...]]
    by_donor_kind: dict[str, tuple[CurrencyTotals, ...]]
    by_donor: dict[str, tuple[CurrencyTotals, ...]]
    totals: tuple[CurrencyTotals, ...]


def transparency(
    fold: LedgerFold,
    kind: str,
    subject: str | UUID,
    as_of: AsOf | None = None,
    *,
    on: date | None = None,
    campaign_policy: DisclosurePolicy | None = None,
    index: PageIndex | None = None,
) -> ProjectPage | OrganizationPage | CountyPage:
    """The public page of a ``project``, ``organization`` or ``county`` at the coordinates.

    ``index``, when given, is a :class:`PageIndex` of this fold at these coordinates (for many pages).
    """
    as_of = as_of or AsOf()
    if kind not in ("project", "organization", "county"):
        raise InvalidInput("kind", kind, "project, organization or county")
    subject = _county(subject) if kind == "county" else _uuid(subject)
    if index is None:
        index = PageIndex(fold, as_of)
    index.check(fold, as_of)
    if kind == "project":
        assert isinstance(subject, UUID)
        return project_page(fold, subject, as_of, index)
    if kind == "organization":
        assert isinstance(subject, UUID)
        return organization_page(fold, subject, as_of, index, on=on, campaign_policy=campaign_policy)
    return county_page(fold, str(subject), as_of, index)


_REGION_CODE: TypeAdapter[str] = TypeAdapter(RegionCode)


def _county(subject: str | UUID) -> str:
    try:
        return _REGION_CODE.validate_python(str(subject))
    except ValidationError:
        raise InvalidInput("county", subject, "a 6-digit GB/T 2260 county code such as 130722") from None


def _uuid(subject: str | UUID) -> UUID:
    try:
        return subject if isinstance(subject, UUID) else UUID(str(subject))
    except ValueError:
        raise InvalidInput("id", subject, "a UUID") from None


def donor_name(fold: LedgerFold, pledge: PledgeRecord, as_of: AsOf) -> tuple[str, UUID | None]:
    """The name a page shows for a pledge's donor, and its id: ANONYMOUS and no id for an anonymous pledge."""
    if pledge.anonymous:
        return ANONYMOUS, None
    record = fold.organizations.get(pledge.donor_id)
    found = record.at(as_of) if record else None
    return (found[0].name if found else pledge.donor_id), UUID(pledge.donor_id)


def _lines(fold: LedgerFold, pledges: Iterable[PledgeRecord], as_of: AsOf, index: PageIndex) -> list[PledgeLine]:
    pledges = [p for p in pledges if as_of.knows(p.position, p.recorded_at)]
    columns = {p.id: derive_columns(index.lines[p.id]) for p in pledges if p.id in index.lines}
    lines = []
    for pledge in pledges:
        if pledge.id not in columns:
            continue  # made after the effective-on date
        donor, donor_id = donor_name(fold, pledge, as_of)
        lines.append(
            PledgeLine(
                pledge_id=UUID(pledge.id),
                donor=donor,
                donor_id=donor_id,
                project_id=UUID(pledge.project_id),
                project=fold.projects[pledge.project_id].plan.title,
                stage=_stage(columns[pledge.id]),
                form="in_kind" if pledge.items else "cash",
                currency=pledge.currency,
                columns=columns[pledge.id],
                flow=pledge.flow,
                items=tuple(
                    InKindItem(description=i.description, quantity=i.quantity, unit=i.unit) for i in pledge.items
                ),
            )
        )
    return sorted(lines, key=lambda line: (line.project, line.donor, str(line.pledge_id)))


def in_kind_lines(
    fold: LedgerFold, as_of: AsOf, *, county: str | None = None, index: PageIndex | None = None
) -> list[PledgeLine]:
    """The public lines of the in-kind pledges known at the coordinates, as project pages show them
    (anonymous donors unnamed): every one, or those to projects in ``county``."""
    pledges = (
        p
        for p in fold.pledges.values()
        if p.items and (county is None or fold.projects[p.project_id].plan.region == county)
    )
    return _lines(fold, pledges, as_of, index if index is not None else PageIndex(fold, as_of))


def _stage(columns: dict[str, Decimal]) -> str:
    if columns["withdrawn"]:
        return "withdrawn"
    return "signed" if columns["signed"] else "intended"


def currency_totals(lines: Iterable[PledgeLine]) -> tuple[CurrencyTotals, ...]:
    """Sum the donations among pledge lines per currency, with the fulfilment rate (other flows are
    shown line by line, never added: DESIGN §3 rule 8)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0] * len(BASE_COLUMNS))
    for line in lines:
        if line.flow != "donation":
            continue
        base = sums[line.currency]
        for index, column in enumerate(BASE_COLUMNS):
            base[index] += int(line.columns[column].scaleb(2))
    result = []
    for currency, base in sorted(sums.items()):
        columns = derive_columns(base)
        signed = columns["signed"]
        rate = (columns["net_disbursed"] / signed).quantize(Decimal("0.0001"), ROUND_HALF_EVEN) if signed else None
        result.append(CurrencyTotals(currency=currency, columns=columns, fulfilment_rate=rate))
    return tuple(result)


def _project(fold: LedgerFold, project_id: UUID, as_of: AsOf) -> ProjectRecord:
    project = fold.projects.get(str(project_id))
    if project is None or not as_of.knows(project.position, project.recorded_at):
        raise NotFound(f"project {project_id} is not in the ledger at these coordinates")
    return project


def project_page(fold: LedgerFold, project_id: UUID, as_of: AsOf, index: PageIndex) -> ProjectPage:
    """The public page of one project."""
    project = _project(fold, project_id, as_of)
    plan = project.plan
    lines = _lines(fold, index.by_project.get(project.id, ()), as_of, index)
    implementer = fold.organizations[plan.implementing_organization_id].at(as_of)
    latest = project.beneficiaries_at(as_of)
    page = ProjectPage(
        coordinates=coordinates_of(fold, as_of),
        project_id=UUID(project.id),
        title=plan.title,
        implementer=implementer[0].name if implementer else "",
        region=plan.region,
        pooled_fund=plan.pooled_fund,
        category=plan.category,
        field=plan.field,
        campaigns=plan.campaigns,
        planned_start=plan.planned_start,
        planned_end=plan.planned_end,
        status=project.status_at(as_of)[0],
        pledges=tuple(lines),
        totals=currency_totals(lines),
        beneficiaries=None
        if latest is None
        else {
            "as_of": latest.as_of,
            "person_times": latest.person_times,
            "households": latest.households,
            "persons": latest.persons,
        },
        disclosures=tuple(
            {"position": entry.position, "published_on": entry.published_on, **msgspec.structs.asdict(entry.disclosure)}
            for entry in project.disclosures
            if as_of.includes(entry.position, entry.recorded_at, entry.published_on)
        ),
        timeline=tuple(_timeline(fold, project, as_of, index)),
    )
    result: ProjectPage = page.sealed()
    return result


def _timeline(fold: LedgerFold, project: ProjectRecord, as_of: AsOf, index: PageIndex) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(effective_on=project.registered_on, position=project.position, event="registered", detail="")
    ]
    for change in project.status_changes:
        if as_of.includes(change.position, change.recorded_at, change.effective_on):
            entries.append(
                TimelineEntry(
                    effective_on=change.effective_on, position=change.position, event=change.status, detail=""
                )
            )
    for report in project.beneficiaries:
        if as_of.includes(report.position, report.recorded_at, report.as_of):
            detail = f"{report.person_times} person-times"
            entries.append(
                TimelineEntry(effective_on=report.as_of, position=report.position, event="beneficiaries", detail=detail)
            )
    for entry in project.disclosures:
        if as_of.includes(entry.position, entry.recorded_at, entry.published_on):
            disclosure = entry.disclosure
            detail = f"{disclosure.kind} report for {disclosure.period_start}..{disclosure.period_end}"
            entries.append(
                TimelineEntry(
                    effective_on=entry.published_on, position=entry.position, event="disclosed", detail=detail
                )
            )
    entries.extend(_money_entries(fold, project, as_of, index))
    return sorted(entries, key=lambda e: (e.effective_on, e.position, e.event))


def _money_entries(fold: LedgerFold, project: ProjectRecord, as_of: AsOf, index: PageIndex) -> list[TimelineEntry]:
    entries = []
    seen: set[tuple[int, str]] = set()
    for fact in index.facts.get(project.id, ()):
        pledge = fold.pledges[fact.pledge_id]
        if fact.amount <= 0 or (fact.position, fact.column) in seen:
            continue
        seen.add((fact.position, fact.column))
        donor, _ = donor_name(fold, pledge, as_of)
        entries.append(_money_entry(fact, donor, pledge.currency))
    return entries


def _money_entry(fact: Fact, donor: str, currency: str) -> TimelineEntry:
    return TimelineEntry(
        effective_on=fact.effective_on,
        position=fact.position,
        event=fact.column,
        detail=f"{money(fact.amount)} {currency} ({donor})",
    )


def organization_page(
    fold: LedgerFold,
    organization_id: UUID,
    as_of: AsOf,
    index: PageIndex,
    *,
    on: date | None = None,
    campaign_policy: DisclosurePolicy | None = None,
) -> OrganizationPage:
    """The public page of one organization; its anonymous pledges are left off."""
    record = fold.organizations.get(str(organization_id))
    found = record.at(as_of) if record else None
    if found is None:
        raise NotFound(f"organization {organization_id} is not in the ledger at these coordinates")
    profile, deregistered_on = found
    wanted = str(organization_id)
    own = (p for p in index.by_donor.get(wanted, ()) if not p.anonymous)
    lines = _lines(fold, own, as_of, index)
    record_counts: Counter[str] = Counter()
    if on is not None:
        for project in index.by_implementer.get(wanted, ()):
            if owes_disclosures(project, on, as_of):
                try:
                    statuses = project_obligations(fold, project, on, as_of, campaign_policy)
                except ValidationError:  # facts the rules cannot read: a finding of the disclosure report
                    record_counts["unreadable"] += 1
                    continue
                for status in statuses:
                    record_counts[status.status.value] += 1
    page = OrganizationPage(
        coordinates=coordinates_of(fold, as_of),
        organization_id=organization_id,
        name=profile.name,
        kind=profile.kind,
        level=profile.level,
        home_region=profile.home_region,
        charity=profile.charity,
        public_fundraising=profile.public_fundraising,
        deregistered_on=deregistered_on,
        pledges=tuple(lines),
        totals=currency_totals(lines),
        disclosure_on=on,
        disclosure_record=dict(sorted(record_counts.items())),
    )
    result: OrganizationPage = page.sealed()
    return result


def county_page(fold: LedgerFold, county: str, as_of: AsOf, index: PageIndex) -> CountyPage:
    """Inflows into one county by donor level, kind and donor (anonymous donors aggregated)."""
    projects = sorted(
        (p for p in index.by_county.get(county, ()) if as_of.knows(p.position, p.recorded_at)),
        key=lambda p: (p.plan.title, p.id),
    )
    lines = _lines(fold, (pledge for p in projects for pledge in index.by_project.get(p.id, ())), as_of, index)
    by_level: dict[str, list[PledgeLine]] = defaultdict(list)
    by_kind: dict[str, list[PledgeLine]] = defaultdict(list)
    by_donor: dict[str, list[PledgeLine]] = defaultdict(list)
    for line in lines:
        pledge = fold.pledges[str(line.pledge_id)]
        donor = fold.organizations[pledge.donor_id].at(as_of)
        level, kind = (donor[0].level, donor[0].kind) if donor else ("(none)", "(none)")
        if pledge.anonymous:  # in a county with few donors, level or kind could name them
            level = kind = ANONYMOUS
        by_level[level].append(line)
        by_kind[kind].append(line)
        named = line.donor if line.donor_id is None else f"{line.donor} ({str(line.donor_id)[:8]})"
        by_donor[named].append(line)
    page = CountyPage(
        coordinates=coordinates_of(fold, as_of),
        county=county,
        projects=tuple(
            {
                "project_id": UUID(p.id),
                "title": p.plan.title,
                "category": p.plan.category,
                "status": p.status_at(as_of)[0],
            }
            for p in projects
        ),
        by_donor_level={k: currency_totals(v) for k, v in sorted(by_level.items())},
        by_donor_kind={k: currency_totals(v) for k, v in sorted(by_kind.items())},
        by_donor={k: currency_totals(v) for k, v in sorted(by_donor.items())},
        totals=currency_totals(lines),
    )
    result: CountyPage = page.sealed()
    return result
