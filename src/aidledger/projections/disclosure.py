"""Disclosure status: the obligations the history implies, evaluated as of a date.

Facts for the rules engine (:mod:`aidledger.projections.disclosure_rules`) are read from the fold:
the implementing organization's charity status and fundraising qualification on the project's
start, the project's start, completion or cancellation, and the disclosures published. Problems
in the data are returned as findings in the report, never raised.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from aidledger.projections.disclosure_rules import (
    STATUTORY_POLICY,
    DisclosurePolicy,
    DisclosureRecord,
    ObligationStatus,
    ProjectFacts,
    derive_obligations,
    evaluate,
)
from aidledger.projections.fold import AsOf, LedgerFold, ProjectRecord
from aidledger.projections.report import Report, coordinates_of

__all__ = ["DisclosureReport", "DisclosureRow", "disclosure_status", "owes_disclosures", "project_obligations"]


class DisclosureRow(BaseModel):
    """One obligation and its status on the evaluation date."""

    model_config = ConfigDict(frozen=True)

    project_id: UUID
    project: str
    organization_id: UUID
    organization: str
    kind: str
    period_start: date
    period_end: date
    opens_on: date
    due_on: date
    status: str
    days_late: int
    rule_set: str
    citation: str
    policy: str
    met_by_position: int | None
    """Log position of the disclosure event that met the obligation."""


class DisclosureReport(Report):
    """Every obligation, its status on ``on``, and a count per status."""

    report: str = "disclosure"
    on: date
    policies: tuple[str, ...]
    rows: tuple[DisclosureRow, ...]
    summary: dict[str, int]
    findings: tuple[str, ...]
    """Projects whose facts the rules could not evaluate, and why."""


def project_facts(fold: LedgerFold, project: ProjectRecord, as_of: AsOf) -> ProjectFacts:
    """What the rules need to know of one project at the coordinates."""
    status, dates = project.status_at(as_of)
    organization = fold.organizations[project.plan.implementing_organization_id].at(as_of)
    assert organization is not None
    profile = organization[0]
    start = dates.get("started", project.plan.planned_start)
    disclosures = tuple(
        DisclosureRecord(
            kind=entry.disclosure.kind,
            published_on=entry.published_on,
            period_start=entry.disclosure.period_start,
            period_end=entry.disclosure.period_end,
            reference=str(entry.position),
        )
        for entry in project.disclosures
        if as_of.includes(entry.position, entry.recorded_at, entry.published_on)
    )
    return ProjectFacts(
        project_id=project.id,
        organization_id=project.plan.implementing_organization_id,
        is_charity=profile.charity,
        has_public_fundraising=profile.fundraising_on(start),
        planned_start=project.plan.planned_start,
        planned_end=project.plan.planned_end,
        started_on=dates.get("started"),
        completed_on=dates.get("completed") if status == "completed" else None,
        cancelled_on=dates.get("cancelled") if status == "cancelled" else None,
        disclosures=disclosures,
    )


def policy_for(project: ProjectRecord, campaign_policy: DisclosurePolicy | None) -> DisclosurePolicy:
    """A campaign policy binds the projects tagged with its name; the statute binds the rest."""
    if campaign_policy is not None and campaign_policy.name in project.plan.campaigns:
        return campaign_policy
    return STATUTORY_POLICY


def project_obligations(
    fold: LedgerFold, project: ProjectRecord, on: date, as_of: AsOf, campaign_policy: DisclosurePolicy | None = None
) -> list[ObligationStatus]:
    """One project's obligations and their status on ``on``."""
    facts = project_facts(fold, project, as_of)
    return evaluate(derive_obligations(facts, policy_for(project, campaign_policy)), facts, on)


def owes_disclosures(project: ProjectRecord, on: date, as_of: AsOf) -> bool:
    """Whether the project is in the ledger at the coordinates and registered (effective) by ``on``.

    A project counts from its registration's effective date: before it, it owes nothing, whatever
    its planned dates say.
    """
    return project.registered_on <= on and as_of.includes(project.position, project.recorded_at, project.registered_on)


def disclosure_status(
    fold: LedgerFold,
    on: date,
    *,
    campaign_policy: DisclosurePolicy | None = None,
    as_of: AsOf | None = None,
) -> DisclosureReport:
    """Every project's obligations evaluated on ``on`` (only what was effective by then counts).

    A project registered (effective) after ``on`` is not listed: its duties begin with it.
    """
    given = as_of or AsOf()
    effective = on if given.effective_on is None else min(on, given.effective_on)
    as_of = AsOf(position=given.position, recorded_before=given.recorded_before, effective_on=effective)
    rows: list[DisclosureRow] = []
    findings: list[str] = []
    for project in sorted(fold.projects.values(), key=lambda p: (p.plan.title, p.id)):
        if not owes_disclosures(project, on, as_of):
            continue
        try:
            statuses = project_obligations(fold, project, on, as_of, campaign_policy)
        except ValidationError as error:
            findings.append(f"project {project.id} ({project.plan.title}): {error.errors()[0]['msg']}")
            continue
        rows.extend(_row(fold, project, status, as_of) for status in statuses)
    rows.sort(key=lambda r: (r.due_on, r.project, str(r.project_id), r.kind, r.period_start))
    policies = ("statutory",) if campaign_policy is None else ("statutory", campaign_policy.name)
    report = DisclosureReport(
        coordinates=coordinates_of(fold, as_of),
        on=on,
        policies=policies,
        rows=tuple(rows),
        summary=dict(sorted(Counter(row.status for row in rows).items())),
        findings=tuple(findings),
    )
    result: DisclosureReport = report.sealed()
    return result


def _row(fold: LedgerFold, project: ProjectRecord, status: ObligationStatus, as_of: AsOf) -> DisclosureRow:
    obligation = status.obligation
    organization = fold.organizations[project.plan.implementing_organization_id].at(as_of)
    return DisclosureRow(
        project_id=UUID(project.id),
        project=project.plan.title,
        organization_id=UUID(project.plan.implementing_organization_id),
        organization=organization[0].name if organization else "",
        kind=obligation.kind.value,
        period_start=obligation.period_start,
        period_end=obligation.period_end,
        opens_on=obligation.opens_on,
        due_on=obligation.due_on,
        status=status.status.value,
        days_late=status.days_late,
        rule_set=obligation.rule_set,
        citation=obligation.citation,
        policy=obligation.policy,
        met_by_position=int(status.met_by.reference) if status.met_by and status.met_by.reference else None,
    )
