"""Helpers shared by the projection tests: a seeded random command generator and small histories.

:class:`RandomHistory` drives a real ledger through its public command methods with a seeded
``random.Random``: organizations (some updated or deregistered), projects and pooled funds,
pledges of every kind (intended or signed, anonymous, in kind, through a channel, in USD, and
regrants ``funded_from`` a pooled-fund pledge once it has disbursements), signatures,
amendments, withdrawals, disbursements and their confirmations, reversals and returns,
beneficiary reports, disclosures, and project starts, completions and cancellations. Commands
the ledger refuses are counted, not raised: a refused command stores nothing, and a history
with refusals in it is the more realistic one.

The plain helpers record small fixed histories whose figures the tests compute by hand.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    register_organization,
    register_pooled_fund,
    register_project,
)

from aidledger import AidLedger
from aidledger.errors import AidLedgerError
from aidledger.projections import AsOf, LedgerFold, TotalsReport, projections_of
from aidledger.projections.totals import totals as fold_totals

__all__ = [
    "COUNTIES",
    "FIRST_DAY",
    "LAST_DAY",
    "FromScratch",
    "PooledHistory",
    "RandomHistory",
    "column_sum",
    "rebuilt_totals",
    "record_pooled_history",
    "rows_where",
]

COUNTIES = ("130722", "130723", "130821", "130623", "110101")
"""Recipient regions the generator picks from: four Hebei counties and one Beijing district."""

FIRST_DAY = date(2018, 1, 1)
LAST_DAY = date(2019, 12, 31)
"""Effective dates of generated commands fall in this span, in no particular order."""

CAMPAIGNS = ("jjj-2018", "百县千社", "春蕾")
CATEGORY_FIELDS = {
    "direct_aid": ("other", "relocation"),
    "capacity": ("industry", "education", "health", "employment"),
    "public_welfare": ("volunteer", "ecology", "health", "education"),
}
ITEMS = ({"description": "冬衣", "quantity": "20", "unit": "件"},)


class FromScratch:
    """Folds a ledger's whole log from scratch on every call.

    The decoded events are kept between calls (events are immutable and the fold never changes
    them), so each call redoes the whole fold, not the reading and decoding of old rows. Reports
    from its folds name the log's Merkle root, as the runner's do.
    """

    def __init__(self, ledger: AidLedger) -> None:
        self.ledger = ledger
        self.runner = projections_of(ledger)
        self.rows: list[Any] = []

    def fold(self) -> LedgerFold:
        """A new fold of every event in the log."""
        after = self.rows[-1].position if self.rows else 0
        self.rows.extend(self.ledger.store.read_rows(after + 1))
        fold = LedgerFold()
        fold.apply_rows(self.rows)
        fold.root_of = self.runner.root_of
        return fold


def rebuilt_totals(ledger: AidLedger, group_by: Iterable[str] = (), as_of: AsOf | None = None) -> TotalsReport:
    """Totals from a fold rebuilt from scratch (the persisted fold is not used)."""
    return fold_totals(projections_of(ledger).rebuild().fold, tuple(group_by), as_of or AsOf())


def rows_where(report: TotalsReport, currency: str = "CNY", **key: str) -> list[Any]:
    """The rows of ``report`` in ``currency`` whose key has every given dimension value."""
    return [
        row
        for row in report.rows
        if row.currency == currency and all(row.key.get(name) == value for name, value in key.items())
    ]


def column_sum(rows: Iterable[Any], column: str) -> Decimal:
    """The sum of one column over totals rows."""
    return sum((row.columns[column] for row in rows), Decimal("0.00"))


class _Skip(Exception):
    """The generator has nothing to apply a command to yet; no command is sent."""


@dataclass
class RandomHistory:
    """Seeded random commands against a real ledger; refused commands are counted, not raised."""

    ledger: AidLedger
    seed: int
    rng: random.Random = field(init=False)
    steps: int = 0
    organizations: list[UUID] = field(default_factory=list)
    projects: list[UUID] = field(default_factory=list)
    pools: list[UUID] = field(default_factory=list)
    pledges: list[UUID] = field(default_factory=list)
    pool_pledges: list[UUID] = field(default_factory=list)
    disbursements: list[UUID] = field(default_factory=list)
    intended: list[UUID] = field(default_factory=list)
    closed: set[UUID] = field(default_factory=set)
    """Deregistered organizations and completed or cancelled projects: mostly avoided."""
    stored: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- driving ------------------------------------------------------------------------------

    def run(self, count: int, after_each: Callable[[RandomHistory], None] | None = None) -> None:
        """Run ``count`` commands, calling ``after_each`` after every one."""
        for _ in range(count):
            self.step()
            if after_each is not None:
                after_each(self)

    def step(self) -> str:
        """Run one random command; return its name."""
        self.steps += 1
        name = self._choose()
        command: Callable[[], UUID | None] = getattr(self, "_" + name)
        try:
            created = command()
        except _Skip:
            self.skipped[name] += 1
        except AidLedgerError:
            self.refused[name] += 1
        else:
            self.stored[name] += 1
            self._remember(name, created)
        return name

    def _choose(self) -> str:
        if len(self.organizations) < 3:
            return "register_organization"
        if len(self.projects) < 3:
            return "register_project"
        if not self.pools:
            return "register_pooled_fund"
        weights = {
            "register_organization": 3,
            "update_organization": 2,
            "deregister_organization": 1,
            "register_project": 5,
            "register_pooled_fund": 1,
            "start_project": 3,
            "report_beneficiaries": 3,
            "record_disclosure": 3,
            "complete_project": 1,
            "cancel_project": 1,
            "make_pledge": 18,
            "pledge_to_pool": 4,
            "regrant": 6,
            "sign_pledge": 6,
            "amend_pledge": 5,
            "withdraw_pledge": 3,
            "disburse": 18,
            "confirm_disbursement": 8,
            "reverse_disbursement": 4,
            "return_disbursement": 4,
        }
        names = list(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    def _remember(self, name: str, created: UUID | None) -> None:
        if created is None:
            return
        target = {
            "register_organization": self.organizations,
            "register_project": self.projects,
            "register_pooled_fund": self.pools,
            "make_pledge": self.pledges,
            "pledge_to_pool": self.pool_pledges,
            "regrant": self.pledges,
            "disburse": self.disbursements,
        }.get(name)
        if target is not None:
            target.append(created)

    # -- random values ------------------------------------------------------------------------

    def _day(self) -> str:
        return (FIRST_DAY + timedelta(days=self.rng.randrange((LAST_DAY - FIRST_DAY).days + 1))).isoformat()

    def _id(self) -> str:
        return f"rnd-{self.seed}-{self.steps}"

    def _amount(self, low: int = 100, high: int = 100_000) -> Decimal:
        return Decimal(self.rng.randrange(low * 100, high * 100)) / 100

    def _part_of(self, whole: Decimal) -> Decimal:
        """A positive amount up to ``whole`` (sometimes a little more, to be refused)."""
        if whole <= 0 or self.rng.random() < 0.08:
            return self._amount(1, 1000)
        cents = int(whole * 100)
        return Decimal(self.rng.randrange(1, cents + 1)) / 100

    def _any(self, items: list[UUID]) -> UUID:
        """Mostly an open one (an active organization, a project still running)."""
        if not items:
            raise _Skip
        open_items = [item for item in items if item not in self.closed]
        if open_items and self.rng.random() < 0.95:
            return self.rng.choice(open_items)
        return self.rng.choice(items)

    def _all_pledges(self) -> list[UUID]:
        return self.pledges + self.pool_pledges

    # -- organizations ------------------------------------------------------------------------

    def _register_organization(self) -> UUID:
        level = self.rng.choice(["national", "provincial", "provincial", "municipal", "county"])
        kind = self.rng.choice(["foundation", "social_group", "social_service_agency", "enterprise"])
        charity = kind == "foundation" and self.rng.random() < 0.7
        home = {"national": "110000", "provincial": "130000", "municipal": "130700", "county": "130722"}[level]
        return self.ledger.register_organization(
            command_id=self._id(),
            name=f"随机组织{self.steps:04d}（测试）",
            kind=kind,
            level=level,
            home_region=home,
            charity=charity,
            public_fundraising=charity and self.rng.random() < 0.6,
            effective_on=self._day(),
        ).aggregate_id

    def _update_organization(self) -> None:
        self.ledger.update_organization(
            command_id=self._id(),
            organization_id=self._any(self.organizations),
            level=self.rng.choice(["national", "provincial", "municipal"]),
            effective_on=self._day(),
        )

    def _deregister_organization(self) -> None:
        if len(self.organizations) - len(self.closed & set(self.organizations)) < 8:
            raise _Skip
        organization_id = self._any(self.organizations)
        self.ledger.deregister_organization(
            command_id=self._id(), organization_id=organization_id, reason="合并", effective_on=self._day()
        )
        self.closed.add(organization_id)

    # -- projects -----------------------------------------------------------------------------

    def _project_fields(self) -> dict[str, Any]:
        category = self.rng.choice(list(CATEGORY_FIELDS))
        start = date.fromisoformat(self._day())
        return {
            "command_id": self._id(),
            "title": f"随机项目{self.steps:04d}",
            "implementing_organization_id": self._any(self.organizations),
            "category": category,
            "field": self.rng.choice(CATEGORY_FIELDS[category]),
            "campaigns": tuple(self.rng.sample(CAMPAIGNS, self.rng.choice([0, 1, 1, 2]))),
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(days=self.rng.choice([90, 180, 270, 365, 540]))).isoformat(),
            "effective_on": self._day(),
        }

    def _register_project(self) -> UUID:
        return self.ledger.register_project(region=self.rng.choice(COUNTIES), **self._project_fields()).aggregate_id

    def _register_pooled_fund(self) -> UUID:
        return self.ledger.register_project(region=None, pooled_fund=True, **self._project_fields()).aggregate_id

    def _any_project(self) -> UUID:
        return self._any(self.projects + self.pools)

    def _start_project(self) -> None:
        self.ledger.start_project(command_id=self._id(), project_id=self._any_project(), effective_on=self._day())

    def _report_beneficiaries(self) -> None:
        self.ledger.report_beneficiaries(
            command_id=self._id(),
            project_id=self._any(self.projects),
            person_times=self.rng.randrange(0, 5000),
            households=self.rng.choice([None, self.rng.randrange(0, 800)]),
            persons=self.rng.choice([None, self.rng.randrange(0, 2000)]),
            effective_on=self._day(),
        )

    def _record_disclosure(self) -> None:
        published = self._day()
        self.ledger.record_disclosure(
            command_id=self._id(),
            project_id=self._any(self.projects),
            kind=self.rng.choice(["progress", "progress", "final"]),
            period_start=FIRST_DAY.isoformat(),
            period_end=published,
            channel="慈善中国",
            effective_on=published,
        )

    def _complete_project(self) -> None:
        project_id = self._any(self.projects)
        self.ledger.complete_project(command_id=self._id(), project_id=project_id, effective_on=self._day())
        self.closed.add(project_id)

    def _cancel_project(self) -> None:
        project_id = self._any(self.projects)
        self.ledger.cancel_project(
            command_id=self._id(), project_id=project_id, reason="县里另有安排", effective_on=self._day()
        )
        self.closed.add(project_id)

    # -- pledges ------------------------------------------------------------------------------

    def _pledge_fields(self, project_id: UUID) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "command_id": self._id(),
            "donor_id": self._any(self.organizations),
            "project_id": project_id,
            "stage": self.rng.choice(["signed", "signed", "intended"]),
            "anonymous": self.rng.random() < 0.1,
            "effective_on": self._day(),
        }
        if self.rng.random() < 0.2:
            fields["channel_id"] = self._any(self.organizations)
        return fields

    def _make_pledge(self) -> UUID:
        fields = self._pledge_fields(self._any(self.projects))
        currency = "USD" if self.rng.random() < 0.1 else "CNY"
        fields["amount"] = {"value": str(self._amount()), "currency": currency}
        if currency == "CNY" and self.rng.random() < 0.15:
            fields["items"] = ITEMS
        return self._pledge(fields)

    def _pledge(self, fields: dict[str, Any]) -> UUID:
        pledge_id = self.ledger.make_pledge(**fields).aggregate_id
        if fields["stage"] == "intended":
            self.intended.append(pledge_id)
        return pledge_id

    def _pledge_to_pool(self) -> UUID:
        fields = self._pledge_fields(self._any(self.pools))
        fields["stage"] = "signed"
        fields["amount"] = str(self._amount(10_000, 500_000))
        return self._pledge(fields)

    def _regrant(self) -> UUID:
        sources = [self.ledger.pledge(p) for p in self.pool_pledges]
        with_room = [p.id for p in sources if p.net_disbursed > p.regranted]
        source_id = self._any(with_room if with_room and self.rng.random() < 0.9 else self.pool_pledges)
        source = self.ledger.pledge(source_id)
        fields = self._pledge_fields(self._any(self.projects))
        fields["donor_id"] = self.ledger.project(source.project_id).plan.implementing_organization_id
        fields["funded_from"] = source_id
        fields["anonymous"] = False
        fields["amount"] = str(self._part_of(source.net_disbursed - source.regranted))
        return self._pledge(fields)

    def _sign_pledge(self) -> None:
        pledges = self.intended if self.intended and self.rng.random() < 0.8 else self._all_pledges()
        pledge_id = self._any(pledges)
        self.ledger.sign_pledge(command_id=self._id(), pledge_id=pledge_id, effective_on=self._day())
        self.intended.remove(pledge_id)

    def _amend_pledge(self) -> None:
        pledge = self.ledger.pledge(self._any(self._all_pledges()))
        if self.rng.random() < 0.5:
            value = pledge.net_disbursed + self._part_of(pledge.outstanding + Decimal(1000))
        else:
            value = self._part_of(pledge.amount.value)
        self.ledger.amend_pledge(
            command_id=self._id(),
            pledge_id=pledge.id,
            amount={"value": str(value), "currency": pledge.amount.currency},
            reason="补充协议",
            effective_on=self._day(),
        )

    def _withdraw_pledge(self) -> None:
        self.ledger.withdraw_pledge(
            command_id=self._id(), pledge_id=self._any(self._all_pledges()), reason="捐方撤回", effective_on=self._day()
        )

    # -- disbursements ------------------------------------------------------------------------

    def _disburse(self) -> UUID:
        to_pool = self.pool_pledges and self.rng.random() < 0.25
        pledge = self.ledger.pledge(self._any(self.pool_pledges if to_pool else self._all_pledges()))
        return self.ledger.disburse(
            command_id=self._id(),
            pledge_id=pledge.id,
            amount={"value": str(self._part_of(pledge.outstanding)), "currency": pledge.amount.currency},
            method="goods_delivery" if pledge.in_kind else "bank_transfer",
            effective_on=self._day(),
        ).aggregate_id

    def _any_disbursement(self) -> UUID:
        return self._any(self.disbursements)

    def _confirm_disbursement(self) -> None:
        self.ledger.confirm_disbursement(
            command_id=self._id(), disbursement_id=self._any_disbursement(), effective_on=self._day()
        )

    def _reverse_disbursement(self) -> None:
        self.ledger.reverse_disbursement(
            command_id=self._id(), disbursement_id=self._any_disbursement(), reason="重复录入", effective_on=self._day()
        )

    def _return_disbursement(self) -> None:
        disbursement = self.ledger.disbursement(self._any_disbursement())
        self.ledger.return_disbursement(
            command_id=self._id(),
            disbursement_id=disbursement.id,
            amount={
                "value": str(self._part_of(disbursement.amount.value - disbursement.returned)),
                "currency": disbursement.amount.currency,
            },
            reason="余款退回",
            effective_on=self._day(),
        )


@dataclass(frozen=True)
class PooledHistory:
    """Ids in the fixed history with a pooled fund and regrants (see :func:`record_pooled_history`)."""

    foundation: UUID
    chamber: UUID
    fund: UUID
    school: UUID
    clinic: UUID
    pool_pledge: UUID
    direct_pledge: UUID
    regrant_to_school: UUID
    regrant_to_clinic: UUID


def record_pooled_history(ledger: AidLedger) -> PooledHistory:
    """A foundation's pooled fund takes 10,000 yuan and regrants 3,000 + 2,500 of it; a chamber
    pledges 4,000 yuan directly.

    New money: 10,000 (into the pool) + 4,000 (direct) = 14,000 pledged; 6,000 + 1,000 = 7,000
    disbursed. Leaf projects: 4,000 + 3,000 + 2,500 = 9,500 pledged. The pool holds 10,000 − 5,500
    = 4,500 of pledges and 6,000 − 5,500 = 500 of disbursed money not yet passed on.
    """
    foundation = register_organization(ledger, charity=True, public_fundraising=True)
    chamber = register_organization(
        ledger, name="张家口市工商联", kind="social_group", level="municipal", home_region="130700"
    )
    fund = register_pooled_fund(ledger, foundation)
    school = register_project(ledger, chamber, title="希望小学", category="public_welfare", field="education")
    clinic = register_project(ledger, foundation, title="乡村卫生室", region="130821", field="health")
    pool_pledge = make_pledge(ledger, foundation, fund, "10000.00")
    direct_pledge = make_pledge(ledger, chamber, school, "4000.00")
    disburse(ledger, pool_pledge, "6000.00")
    disburse(ledger, direct_pledge, "1000.00")
    after = "2018-04-10"  # regrants draw on money from the day it reached the pool
    regrant_to_school = make_pledge(ledger, foundation, school, "3000.00", funded_from=pool_pledge, effective_on=after)
    regrant_to_clinic = make_pledge(
        ledger, foundation, clinic, "2500.00", funded_from=pool_pledge, stage="intended", effective_on=after
    )
    disburse(ledger, regrant_to_school, "1200.00")
    return PooledHistory(
        foundation=foundation,
        chamber=chamber,
        fund=fund,
        school=school,
        clinic=clinic,
        pool_pledge=pool_pledge,
        direct_pledge=direct_pledge,
        regrant_to_school=regrant_to_school,
        regrant_to_clinic=regrant_to_clinic,
    )
