"""One decision per command: check references and rules against the aggregates, then change them.

Each decision loads what it needs through the session (the unit of work of
:mod:`aidledger.application.pipeline`), checks every rule of every aggregate it will change, and
only then changes them, so a refused command changes nothing. It returns the id of the object the
command is about and the aggregates whose new events are to be stored.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar
from uuid import UUID

from pydantic import ValidationError

from aidledger.application.commands import (
    AmendPledge,
    CancelProject,
    Command,
    CompleteProject,
    ConfirmDisbursement,
    DeregisterOrganization,
    Disburse,
    MakePledge,
    RecordDisclosure,
    RegisterOrganization,
    RegisterProject,
    ReportBeneficiaries,
    ReturnDisbursement,
    ReverseDisbursement,
    SignPledge,
    StartProject,
    UpdateOrganization,
    WithdrawPledge,
    invalid_input_from,
)
from aidledger.domain.base import LedgerAggregate, derive_id
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization, OrganizationProfile
from aidledger.domain.pledge import Pledge, PledgeTerms, PoolDraw
from aidledger.domain.project import Project, ProjectStatus
from aidledger.domain.values import PledgeFlow
from aidledger.errors import (
    DuplicateCreditCode,
    NotAPooledFund,
    PooledFundTakesDonations,
    ProjectClosed,
    RegrantDonorMismatch,
    RegrantExceedsPool,
    UnvaluedGiftMismatch,
)

__all__ = ["DECISIONS", "Decision", "Session"]

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)
ZERO = Decimal("0.00")
Decision = tuple[UUID, list[LedgerAggregate]]


class Session(Protocol):
    """What a decision needs of its session: aggregates, and the ledger's policy."""

    allow_disbursing_intended: bool

    def load(self, aggregate_class: type[TAggregate], aggregate_id: UUID, what: str) -> TAggregate:
        """The aggregate, or :class:`~aidledger.errors.NotFound`."""

    def credit_code_holder(self, code: str, other_than: UUID) -> Organization | None:
        """The organization other than ``other_than`` whose profile holds credit code ``code``."""

    def pledges_into(self, project_id: UUID) -> list[Pledge]:
        """The pledges to a project (a pooled fund), in log order."""


# -- organizations ------------------------------------------------------------------------------


def register_organization(cmd: RegisterOrganization, session: Session) -> Decision:
    """A new organization, its id derived from the command id, with a credit code no other holds."""
    organization_id = derive_id("organization", str(cmd.command_id))
    _check_credit_code_free(session, cmd.profile().credit_code, organization_id)
    return organization_id, [Organization.register(organization_id, cmd.profile(), cmd.envelope())]


def update_organization(cmd: UpdateOrganization, session: Session) -> Decision:
    """Some of the profile changes; the whole new profile is checked, and a new credit code too."""
    organization = session.load(Organization, cmd.organization_id, "organization")
    try:
        profile = OrganizationProfile.model_validate(organization.profile.model_dump() | cmd.changes())
    except ValidationError as error:
        raise invalid_input_from(error, "UpdateOrganization") from None
    organization.check_active()
    if profile.credit_code != organization.profile.credit_code:
        _check_credit_code_free(session, profile.credit_code, organization.id)
    organization.update(profile, cmd.envelope())
    return organization.id, [organization]


def _check_credit_code_free(session: Session, code: str | None, organization_id: UUID) -> None:
    """Raise when another organization, deregistered or not, holds the credit code ``code``."""
    holder = session.credit_code_holder(code, organization_id) if code is not None else None
    if holder is not None:
        gone = f", deregistered on {holder.deregistered_on}" if holder.deregistered_on is not None else ""
        msg = (
            f"credit_code: {code} is the unified social credit code of organization {holder.id} "
            f"({holder.profile.name}{gone}); a code identifies one organization for life and is never given to "
            "another; accepted: another code, or none (if the code was recorded for the wrong organization, "
            "clear it there first)"
        )
        raise DuplicateCreditCode(msg)


def deregister_organization(cmd: DeregisterOrganization, session: Session) -> Decision:
    """The organization makes no new commitments from now on."""
    organization = session.load(Organization, cmd.organization_id, "organization")
    organization.deregister(cmd.reason, cmd.envelope())
    return organization.id, [organization]


# -- projects -----------------------------------------------------------------------------------


def register_project(cmd: RegisterProject, session: Session) -> Decision:
    """A project implemented by an active organization."""
    implementer = session.load(Organization, cmd.implementing_organization_id, "implementing organization")
    implementer.check_active()
    project_id = derive_id("project", str(cmd.command_id))
    return project_id, [Project.register(project_id, cmd.plan(), cmd.envelope())]


def _project_change(change: Callable[[Any, Project], None]) -> Callable[[Any, Session], Decision]:
    def decide(cmd: Any, session: Session) -> Decision:
        project = session.load(Project, cmd.project_id, "project")
        change(cmd, project)
        return project.id, [project]

    return decide


start_project = _project_change(lambda cmd, project: project.start(cmd.envelope()))
report_beneficiaries = _project_change(
    lambda cmd, project: project.report_beneficiaries(cmd.person_times, cmd.households, cmd.persons, cmd.envelope())
)
record_disclosure = _project_change(lambda cmd, project: project.disclose(cmd.disclosure(), cmd.envelope()))
complete_project = _project_change(lambda cmd, project: project.complete(cmd.envelope()))
cancel_project = _project_change(lambda cmd, project: project.cancel(cmd.reason, cmd.envelope()))


# -- pledges ------------------------------------------------------------------------------------


def make_pledge(cmd: MakePledge, session: Session) -> Decision:
    """A pledge; a regrant (``funded_from``) also draws on its source pledge in a pooled fund."""
    terms = cmd.terms()
    session.load(Organization, terms.donor_id, "donor organization").check_active()
    project = session.load(Project, terms.project_id, "project")
    project.check_open()
    if project.plan.pooled_fund and terms.flow is not PledgeFlow.donation:
        msg = (
            f"flow: {terms.flow.value!r} to pooled fund {project.id}: a pooled fund takes and passes on donations "
            "only; accepted: flow donation, or the investment or loan pledged to the project it is for"
        )
        raise PooledFundTakesDonations(msg)
    if terms.channel_id is not None:
        session.load(Organization, terms.channel_id, "channel organization").check_active()
    if terms.unvalued:
        _check_unvalued_destination(terms, project)
    pledge_id = derive_id("pledge", str(cmd.command_id))
    changed: list[LedgerAggregate] = []
    if terms.funded_from is not None:
        source = _regrant_source(session, terms.funded_from, terms.project_id, terms.donor_id)
        source.check_currency(terms.amount, "the regrant")
        source.allocate_regrant(pledge_id, terms.amount.value, cmd.envelope())
        changed.append(source)
    if terms.funded_from_pool is not None:
        draws = _draw_from_pool(session, terms, cmd)
        terms = terms.model_copy(
            update={"drawn_from": tuple(PoolDraw(pledge_id=source.id, amount=amount) for source, amount in draws)}
        )
        for source, amount in draws:
            source.allocate_regrant(pledge_id, amount, cmd.envelope())
            changed.append(source)
    pledge = Pledge.make(pledge_id, terms, cmd.stage, cmd.envelope())
    return pledge_id, [pledge, *changed]


def _check_unvalued_destination(terms: PledgeTerms, project: Project) -> None:
    """Raise unless an unvalued gift goes straight to a project: a pool holds and passes on money, and
    a regrant passes on part of it, so neither can be goods whose value was never assessed."""
    if terms.regrant:
        msg = (
            f"amount: a regrant from {terms.funded_from or terms.funded_from_pool} passes on money held in a "
            "pooled fund, so it needs an amount; an unvalued in-kind gift (items, no amount) is not accepted as "
            "a regrant; accepted: the amount passed on"
        )
        raise UnvaluedGiftMismatch(msg)
    if project.plan.pooled_fund:
        msg = (
            f"amount: pooled fund {project.id} ({project.plan.title}) holds money to pass on, so a pledge to it "
            "needs an amount; an unvalued in-kind gift (items, no amount) is not accepted there; accepted: "
            "the goods' assessed value, or the goods pledged with no amount to the project that receives them"
        )
        raise UnvaluedGiftMismatch(msg)


def _regrant_source(session: Session, source_id: UUID, target_project_id: UUID, donor_id: UUID) -> Pledge:
    """The pool pledge a new regrant draws on, checked: into a pooled fund, which its donor holds."""
    source = session.load(Pledge, source_id, "funded_from pledge")
    source.check_not_withdrawn()
    pool = session.load(Project, source.terms.project_id, "project")
    if not pool.plan.pooled_fund:
        msg = f"funded_from: pledge {source_id} is to project {pool.id}, which is not a pooled fund"
        raise NotAPooledFund(msg)
    _check_regrant_target(pool, target_project_id, donor_id, f"pledge {source_id}")
    return source


def _draw_from_pool(session: Session, terms: PledgeTerms, cmd: Command) -> list[tuple[Pledge, Decimal]]:
    """The pledges into the pool a regrant ``funded_from_pool`` draws on, and how much from each:
    oldest money first (docs/concepts.md), each within what it still has free from the regrant's date on."""
    assert terms.funded_from_pool is not None
    pool = session.load(Project, terms.funded_from_pool, "funded_from_pool project")
    if not pool.plan.pooled_fund:
        msg = (
            f"funded_from_pool: project {pool.id} ({pool.plan.title}) is not a pooled fund; accepted: a project "
            "registered with pooled_fund true"
        )
        raise NotAPooledFund(msg)
    _check_regrant_target(pool, terms.project_id, terms.donor_id, f"pooled fund {pool.id}")
    day, money = cmd.effective_on, terms.amount
    candidates = [
        source
        for source in session.pledges_into(pool.id)
        if not source.withdrawn and source.amount.currency == money.currency and source.arrived_on is not None
    ]
    candidates.sort(key=lambda source: source.arrived_on or day)  # stable: log order among equal dates
    draws, need, available = [], money.value, ZERO
    for source in candidates:
        free = source.free_from(day)
        available += free
        take = min(need, free)
        if take > 0:
            draws.append((source, take))
            need -= take
    if need > 0:
        msg = (
            f"regranting {money} from pooled fund {pool.id} ({pool.plan.title}) on {day} would pass on more "
            f"than it holds free: {available} {money.currency} of its pledges' money had arrived by then and is "
            "not regranted yet, as of every date from then on (money counts in the pool from its value date); "
            f"asked {money.value}; accepted: at most {available} on that date, or a date when more had arrived"
        )
        raise RegrantExceedsPool(msg)
    return draws


def _check_regrant_target(pool: Project, target_project_id: UUID, donor_id: UUID, source: str) -> None:
    """Raise unless a regrant from ``pool`` goes to another project and is made by the pool's holder."""
    if pool.id == target_project_id:
        msg = f"funded_from: a regrant from pooled fund {pool.id} must go to another project"
        raise NotAPooledFund(msg)
    holder = pool.plan.implementing_organization_id
    if donor_id != holder:
        msg = (
            f"donor_id: a regrant from {source} passes on money held in pooled fund {pool.id} "
            f"({pool.plan.title}), so its donor is the fund's implementing organization {holder}; got "
            f"{donor_id}; accepted: donor_id {holder} (a gift of the donor's own money has no funded_from)"
        )
        raise RegrantDonorMismatch(msg)


def sign_pledge(cmd: SignPledge, session: Session) -> Decision:
    """An intended pledge becomes a signed one, while its donor and project accept it."""
    pledge = session.load(Pledge, cmd.pledge_id, "pledge")
    session.load(Organization, pledge.terms.donor_id, "donor organization").check_active()
    session.load(Project, pledge.terms.project_id, "project").check_open()
    pledge.sign(cmd.envelope())
    return pledge.id, [pledge]


def amend_pledge(cmd: AmendPledge, session: Session) -> Decision:
    """A pledge's amount changes; an increase is a new commitment and is checked as one."""
    pledge = session.load(Pledge, cmd.pledge_id, "pledge")
    pledge.check_takes_money(f"amending to {cmd.amount}")
    if cmd.amount.value > pledge.amount.value:
        session.load(Organization, pledge.terms.donor_id, "donor organization").check_active()
        session.load(Project, pledge.terms.project_id, "project").check_open()
    pledge.check_amend(cmd.amount, cmd.envelope())
    sources = _sources_of(session, pledge, cmd.amount.value, cmd)
    pledge.amend(cmd.amount, cmd.reason, cmd.envelope())
    return pledge.id, [pledge, *_allocate(sources, pledge, cmd)]


def withdraw_pledge(cmd: WithdrawPledge, session: Session) -> Decision:
    """A pledge nothing was disbursed against is withdrawn; a regrant frees its pool money."""
    pledge = session.load(Pledge, cmd.pledge_id, "pledge")
    sources = _sources_of(session, pledge, ZERO, cmd)
    pledge.withdraw(cmd.reason, cmd.envelope())
    return pledge.id, [pledge, *_allocate(sources, pledge, cmd)]


def _sources_of(session: Session, pledge: Pledge, amount: Decimal, cmd: Command) -> list[tuple[Pledge, Decimal]]:
    """The pool pledges a regrant draws on, each with what it is to draw once the regrant's amount is
    ``amount``, checked from the command's date (none: not a regrant)."""
    if pledge.terms.funded_from is not None:
        source = session.load(Pledge, pledge.terms.funded_from, "funded_from pledge")
        source.check_allocation(pledge.id, amount, cmd.effective_on)
        return [(source, amount)]
    if not pledge.terms.drawn_from:
        return []
    sources = [session.load(Pledge, draw.pledge_id, "drawn_from pledge") for draw in pledge.terms.drawn_from]
    targets = _redrawn(sources, pledge, amount, cmd)
    for source, target in zip(sources, targets, strict=True):
        source.check_allocation(pledge.id, target, cmd.effective_on)
    return list(zip(sources, targets, strict=True))


def _redrawn(sources: list[Pledge], pledge: Pledge, amount: Decimal, cmd: Command) -> list[Decimal]:
    """What each pledge a regrant from a pool drew on draws once the regrant is ``amount``: a decrease
    gives back the newest draws first; an increase draws more from the same pledges, oldest first."""
    current = [source.allocations.get(pledge.id, ZERO) for source in sources]
    targets = list(current)
    if amount <= sum(current, ZERO):
        excess = sum(current, ZERO) - amount
        for index in reversed(range(len(targets))):
            given_back = min(excess, targets[index])
            targets[index] -= given_back
            excess -= given_back
        return targets
    more, available = amount - sum(current, ZERO), ZERO
    for index, source in enumerate(sources):
        free = source.free_from(cmd.effective_on)
        available += free
        take = min(more, free)
        targets[index] += take
        more -= take
    if more > 0:
        pool = pledge.terms.funded_from_pool
        msg = (
            f"raising regrant {pledge.id} from pooled fund {pool} to {amount} {pledge.amount.currency} would pass on "
            f"more than the pledges it draws on hold free from {cmd.effective_on} on: {available} more is free "
            f"there; accepted: at most {sum(current, ZERO) + available}, or a new regrant from the pool for the rest"
        )
        raise RegrantExceedsPool(msg)
    return targets


def _allocate(sources: list[tuple[Pledge, Decimal]], pledge: Pledge, cmd: Command) -> list[LedgerAggregate]:
    """Record what each source now gives the regrant (a source of a pool regrant only when it changed)."""
    changed: list[LedgerAggregate] = []
    for source, amount in sources:
        if pledge.terms.funded_from is None and source.allocations.get(pledge.id, ZERO) == amount:
            continue
        source.allocate_regrant(pledge.id, amount, cmd.envelope())
        changed.append(source)
    return changed


# -- disbursements ------------------------------------------------------------------------------


def disburse(cmd: Disburse, session: Session) -> Decision:
    """Money or goods handed over against a signed pledge, never more than is outstanding."""
    pledge = session.load(Pledge, cmd.pledge_id, "pledge")
    terms = cmd.terms(pledge.amount.currency)
    project = session.load(Project, pledge.terms.project_id, "project")
    if project.status is ProjectStatus.cancelled:
        raise ProjectClosed(f"project {project.id} ({project.plan.title}) is cancelled; nothing is disbursed to it")
    disbursement_id = derive_id("disbursement", str(cmd.command_id))
    pledge.record_disbursement(
        disbursement_id, terms.amount, cmd.envelope(), allow_intended=session.allow_disbursing_intended
    )
    disbursement = Disbursement.make(disbursement_id, terms, cmd.envelope())
    return disbursement_id, [disbursement, pledge]


def confirm_disbursement(cmd: ConfirmDisbursement, session: Session) -> Decision:
    """The recipient confirmed receipt."""
    disbursement = session.load(Disbursement, cmd.disbursement_id, "disbursement")
    disbursement.confirm(cmd.envelope())
    return disbursement.id, [disbursement]


def reverse_disbursement(cmd: ReverseDisbursement, session: Session) -> Decision:
    """A disbursement was a recording error: it and its pledge's record of it are taken back."""
    disbursement = session.load(Disbursement, cmd.disbursement_id, "disbursement")
    pledge = session.load(Pledge, disbursement.terms.pledge_id, "pledge")
    disbursement.check_reverse(cmd.envelope())
    pledge.check_reversal(disbursement.id)
    disbursement.reverse(cmd.reason, cmd.envelope())
    pledge.record_reversal(disbursement.id, cmd.envelope())
    return disbursement.id, [disbursement, pledge]


def return_disbursement(cmd: ReturnDisbursement, session: Session) -> Decision:
    """Money or goods given back against a disbursement, and so against its pledge."""
    disbursement = session.load(Disbursement, cmd.disbursement_id, "disbursement")
    pledge = session.load(Pledge, disbursement.terms.pledge_id, "pledge")
    pledge.check_takes_money(f"returning {cmd.amount}")
    pledge.check_currency(cmd.amount, "the returned amount")
    disbursement.check_give_back(cmd.amount, cmd.envelope())
    pledge.check_return(cmd.amount, cmd.envelope())
    disbursement.give_back(cmd.amount, cmd.reason, cmd.envelope())
    pledge.record_return(disbursement.id, cmd.amount, cmd.envelope())
    return disbursement.id, [disbursement, pledge]


DECISIONS: dict[type[Command], Callable[[Any, Session], Decision]] = {
    RegisterOrganization: register_organization,
    UpdateOrganization: update_organization,
    DeregisterOrganization: deregister_organization,
    RegisterProject: register_project,
    StartProject: start_project,
    ReportBeneficiaries: report_beneficiaries,
    RecordDisclosure: record_disclosure,
    CompleteProject: complete_project,
    CancelProject: cancel_project,
    MakePledge: make_pledge,
    SignPledge: sign_pledge,
    AmendPledge: amend_pledge,
    WithdrawPledge: withdraw_pledge,
    Disburse: disburse,
    ConfirmDisbursement: confirm_disbursement,
    ReverseDisbursement: reverse_disbursement,
    ReturnDisbursement: return_disbursement,
}
"""The decision of each command."""

assert set(DECISIONS) == set(Command.__subclasses__()), set(Command.__subclasses__()) ^ set(DECISIONS)
