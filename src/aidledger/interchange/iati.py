"""IATI 2.03 activity XML: one ``iati-activity`` per project (docs/export.md maps every element).

Organizations are identified by their unified social credit code as ``CN-USCI-<code>``; one
without a code has no ``ref`` (IATI's advice: leave out an identifier rather than invent one)
and is named in its narrative. Anonymous donors are never named: they appear as "Anonymous
donor" with no ``ref`` and no type.

Transactions are the fold's facts, so an IATI file adds up to exactly the totals report at the
same coordinates: signed-stage facts become outgoing commitments (2), intended-stage facts
outgoing pledges (12), disbursements disbursements (3), and reversals and returns negative
disbursements; signing an intended pledge shows as a negative pledge and a commitment. Money
that passes through a pooled fund is traced: a regrant's transactions name the pooled fund's
activity as ``provider-activity-id``, and every transaction names its own activity as
``receiver-activity-id``. New money is therefore the transactions with no provider activity.

The reporting organization must be named: an organization of the ledger with a unified social
credit code, whose ref is ``CN-USCI-<code>``; no placeholder identifier is ever written. It is a
secondary reporter (``secondary-reporter="1"``) of every activity in which it is not a named
participant. A budget is split into calendar years (IATI rule 7.5.3: no budget period over a year).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from aidledger import projections
from aidledger.application.ledger import AidLedger
from aidledger.application.references import resolve_reference
from aidledger.errors import InvalidInput, NotFound
from aidledger.projections.fold import AsOf, Fact, Item, LedgerFold, PledgeRecord, ProjectRecord, money
from aidledger.projections.report import Coordinates, coordinates_of
from aidledger.projections.totals import pledge_columns

__all__ = [
    "ACTIVITY_STATUS",
    "DAC_SECTORS",
    "FLOW_CODES",
    "NAMESPACE",
    "ORGANIZATION_TYPES",
    "SECTOR_VOCABULARY_URI",
    "TRANSACTION_TYPES",
    "ReportingOrg",
    "budget_periods",
    "dac_sector",
    "iati_activities",
    "organization_ref",
    "write_iati",
]

IATI_VERSION = "2.03"
NAMESPACE = "urn:aidledger:export"
"""Namespace of the ``aidledger:`` attributes that name the export's coordinates."""
SECTOR_VOCABULARY_URI = "urn:aidledger:sector:category.field"
"""The project's own sector vocabulary (99): ``<category>.<field>``, listed in docs/export.md."""
CAMPAIGN_VOCABULARY_URI = "urn:aidledger:campaign"
ANONYMOUS_DONOR = "Anonymous donor (匿名捐赠方)"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

FLOW_CODES: dict[str, tuple[str, str]] = {
    "investment": ("35", "510"),  # FlowType 35 private market; FinanceType 510 common equity
    "loan": ("30", "421"),  # FlowType 30 private development finance; FinanceType 421 standard loan
}
"""IATI flow-type and finance-type of each pledge flow that is not a donation (donations take the
activity's defaults: 30 private development finance, 110 standard grant)."""

ET.register_namespace("aidledger", NAMESPACE)

ORGANIZATION_TYPES = {
    "foundation": "60",  # Foundation
    "social_group": "24",  # Partner Country based NGO
    "social_service_agency": "24",
    "enterprise": "72",  # Private Sector in Aid Recipient Country
    "other": "90",  # Other
}
"""IATI OrganisationType of each organization kind."""

ACTIVITY_STATUS = {"registered": "1", "started": "2", "completed": "3", "cancelled": "5"}
"""IATI ActivityStatus: pipeline, implementation, finalisation, cancelled."""

TRANSACTION_TYPES = {"intended": "12", "signed": "2", "disbursed": "3", "reversed": "3", "returned": "3"}
"""IATI TransactionType of each stage column's facts; reversed and returned go in negated."""

DAC_SECTORS: dict[str, tuple[str, str]] = {
    "industry": ("31120", "Agricultural development"),
    "employment": ("16020", "Employment creation"),
    "education": ("11120", "Education facilities and training"),
    "health": ("12220", "Basic health care"),
    "volunteer": ("16010", "Social Protection"),
    "relocation": ("43040", "Rural development"),
    "ecology": ("41010", "Environmental policy and administrative management"),
}
"""DAC 5-digit purpose code of each field; ``other`` depends on the category (see dac_sector)."""

_OTHER_BY_CATEGORY = {
    "direct_aid": ("16010", "Social Protection"),
    "capacity": ("43040", "Rural development"),
    "public_welfare": ("43010", "Multisector aid"),
}

_EVENT_LABELS = {
    "Pledge.Made": "pledge made",
    "Pledge.Signed": "pledge signed (意向 → 签约)",
    "Pledge.Amended": "pledge amended",
    "Pledge.Withdrawn": "pledge withdrawn",
    "Disbursement.Made": "disbursement (拨付)",
    "Disbursement.Reversed": "reversal: the disbursement was a recording error and never happened",
    "Disbursement.Returned": "money or goods given back",
}


@dataclass(frozen=True)
class ReportingOrg:
    """The organization that publishes the file: IATI requires its ref and type."""

    organization_id: str
    ref: str
    name: str
    type: str


_REPORTING_ORG_ACCEPTED = (
    "the publishing organization, required with --format iati: the id or command id of an organization "
    "in the ledger with a unified social credit code (its IATI ref is CN-USCI-<code>)"
)


def dac_sector(category: str, field: str) -> tuple[str, str]:
    """The DAC 5-digit purpose code and its name for a project's category and field."""
    if field == "other":
        return _OTHER_BY_CATEGORY[category]
    return DAC_SECTORS[field]


def budget_periods(start: date, end: date, value: Decimal) -> list[tuple[date, date, Decimal]]:
    """A budget over ``start..end`` as one period per calendar year, none longer than a year.

    Each period's share is pro rata by days, rounded down to the budget's own smallest unit (the
    fen for ``"300000.00"``); the last period takes the remainder, so the shares add up to the
    budget exactly and none is negative.
    """
    spans = []
    first = start
    while first <= end:
        last = min(end, date(first.year, 12, 31))
        spans.append((first, last))
        first = last + timedelta(days=1)
    places = max(0, -int(value.as_tuple().exponent))
    units = int(value.scaleb(places))
    total_days = (end - start).days + 1
    shares = [units * ((last - first).days + 1) // total_days for first, last in spans[:-1]]
    shares.append(units - sum(shares))
    return [(a, b, Decimal(share).scaleb(-places)) for (a, b), share in zip(spans, shares, strict=True)]


def organization_ref(credit_code: str | None) -> str | None:
    """``CN-USCI-<code>`` for an organization with a unified social credit code, else ``None``."""
    return f"CN-USCI-{credit_code}" if credit_code else None


def write_iati(
    ledger: AidLedger,
    out: TextIO,
    *,
    reporting_org: str | None,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
) -> Coordinates:
    """Write the ledger's projects as IATI 2.03 activity XML; returns the coordinates.

    ``reporting_org`` (the id or command id of an organization with a credit code) is required.
    """
    as_of = projections.as_of(position, recorded_before, effective_on)
    fold = projections.fold_of(ledger)
    coordinates = coordinates_of(fold, as_of)
    root = iati_activities(fold, as_of, reporting_org=reporting_org, coordinates=coordinates)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
    return coordinates


def iati_activities(
    fold: LedgerFold, as_of: AsOf, *, reporting_org: str | None, coordinates: Coordinates | None = None
) -> ET.Element:
    """The ``iati-activities`` element of every project known at the coordinates."""
    projects = [p for p in fold.projects.values() if as_of.knows(p.position, p.recorded_at)]
    if not projects:
        raise InvalidInput("ledger", "no projects", "a ledger with at least one project (IATI needs an activity)")
    coordinates = coordinates or coordinates_of(fold, as_of)
    root = ET.Element("iati-activities", {"version": IATI_VERSION})
    root.set(f"{{{NAMESPACE}}}position", str(coordinates.position))
    if coordinates.root:
        root.set(f"{{{NAMESPACE}}}root", coordinates.root)
    if coordinates.recorded_before:
        root.set(f"{{{NAMESPACE}}}recorded-before", coordinates.recorded_before.isoformat())
    if coordinates.effective_on:
        root.set(f"{{{NAMESPACE}}}effective-on", coordinates.effective_on.isoformat())
    builder = _Builder(fold, as_of, _reporting(fold, as_of, reporting_org))
    for project in sorted(projects, key=lambda p: str(p.id)):
        root.append(builder.activity(project))
    return root


def _reporting(fold: LedgerFold, as_of: AsOf, given: str | None) -> ReportingOrg:
    if given is None:
        raise InvalidInput("--reporting-org", None, _REPORTING_ORG_ACCEPTED)
    organization_id = str(resolve_reference("organization", given))
    record = fold.organizations.get(organization_id)
    found = record.at(as_of) if record else None
    if found is None:
        raise NotFound(
            f"--reporting-org: reporting organization {given!r} is not in the ledger (at the export's coordinates); "
            f"accepted: {_REPORTING_ORG_ACCEPTED}"
        )
    profile = found[0]
    ref = organization_ref(profile.credit_code)
    if ref is None:
        raise InvalidInput(
            "--reporting-org",
            given,
            "an organization with a unified social credit code (IATI needs the reporter's ref; "
            "an organization without one is never given an invented identifier)",
        )
    return ReportingOrg(
        organization_id=organization_id, ref=ref, name=profile.name, type=ORGANIZATION_TYPES[profile.kind]
    )


def _items_text(items: tuple[Item, ...]) -> str:
    return ", ".join(f"{i.description} × {i.quantity} {i.unit}" for i in items) or "not recorded"


def _narrative(parent: ET.Element, text: str, lang: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, "narrative")
    if lang:
        element.set(XML_LANG, lang)
    element.text = text
    return element


def _child(parent: ET.Element, tag: str, **attributes: str | None) -> ET.Element:
    return ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items() if v is not None})


@dataclass(frozen=True)
class _Party:
    """An organization as a participant or provider/receiver of a transaction."""

    ref: str | None
    name: str
    type: str | None
    organization_id: str | None = None
    """``None`` for an anonymous donor: it is not named, so it is no participant of record."""


@dataclass(frozen=True)
class _Participant:
    role: str
    party: _Party
    activity_id: str | None


class _Builder:
    """Builds activities from the fold at the coordinates."""

    def __init__(self, fold: LedgerFold, as_of: AsOf, reporting: ReportingOrg) -> None:
        self.fold = fold
        self.as_of = as_of
        self.reporting = reporting
        self.facts: dict[str, list[Fact]] = defaultdict(list)
        self.confirmed_on: dict[str, date] = {}
        self.unvalued: dict[str, dict[str, list[str]]] = defaultdict(dict)
        """Per project, its unvalued gifts not withdrawn at the coordinates, each with its deliveries."""
        for fact in fold.matching_facts(as_of):
            pledge = fold.pledges[fact.pledge_id]
            if pledge.unvalued:  # an IATI value needs a value: named in the description, in no transaction
                self._unvalued_fact(pledge, fact)
                continue
            self.facts[pledge.project_id].append(fact)
            if fact.column == "confirmed" and fact.amount > 0 and fact.disbursement_id is not None:
                self.confirmed_on[fact.disbursement_id] = fact.effective_on
        # One pass over pledges and facts for all activities, not one per activity.
        self.columns = pledge_columns(fold, as_of)
        self.pledges: dict[str, list[PledgeRecord]] = defaultdict(list)
        for pledge in fold.pledges.values():
            self.pledges[pledge.project_id].append(pledge)

    def _unvalued_fact(self, pledge: PledgeRecord, fact: Fact) -> None:
        gifts = self.unvalued[pledge.project_id]
        if fact.event == "Pledge.Made":
            gifts[pledge.id] = []
        elif fact.event == "Pledge.Withdrawn":
            gifts.pop(pledge.id, None)
        elif fact.column == "disbursed" and fact.disbursement_id is not None and pledge.id in gifts:
            gifts[pledge.id].append(fact.disbursement_id)
        elif fact.column == "reversed" and pledge.id in gifts and fact.disbursement_id in gifts[pledge.id]:
            gifts[pledge.id].remove(fact.disbursement_id)

    def _unvalued_text(self, project: ProjectRecord) -> str:
        """The project's unvalued gifts, with their quantities: IATI transactions carry values only."""
        gifts = self.unvalued.get(project.id)
        if not gifts:
            return ""
        named = []
        for pledge_id, deliveries in gifts.items():
            pledge = self.fold.pledges[pledge_id]
            delivered = "; ".join(_items_text(self.fold.disbursements[d].items) for d in deliveries)
            named.append(f"{_items_text(pledge.items)} pledged" + (f" (delivered: {delivered})" if delivered else ""))
        return (
            f" Unvalued in-kind gifts (quantity known, value not assessed, so in no transaction): {len(named)}: "
            + "; ".join(named)
            + "."
        )

    def identifier(self, project_id: str) -> str:
        return f"{self.reporting.ref}-{project_id}"

    def party(self, organization_id: str) -> _Party:
        record = self.fold.organizations.get(organization_id)
        found = record.at(self.as_of) if record else None
        if found is None:
            return _Party(None, str(organization_id), None, str(organization_id))
        profile = found[0]
        kind = ORGANIZATION_TYPES[profile.kind]
        return _Party(organization_ref(profile.credit_code), profile.name, kind, str(organization_id))

    def donor(self, pledge: PledgeRecord) -> _Party:
        if pledge.anonymous:
            return _Party(None, ANONYMOUS_DONOR, None)
        return self.party(pledge.donor_id)

    # -- one activity -------------------------------------------------------------------------

    def activity(self, project: ProjectRecord) -> ET.Element:
        plan = project.plan
        facts = self.facts.get(project.id, [])
        activity = ET.Element("iati-activity", {"default-currency": "CNY", XML_LANG: "zh", "hierarchy": "1"})
        updated = self._last_updated(project, facts)
        if updated is not None:
            activity.set("last-updated-datetime", updated.isoformat())
        ET.SubElement(activity, "iati-identifier").text = self.identifier(project.id)
        participants = self._participants(project)
        named = {p.party.organization_id for p in participants}
        reporting = _child(
            activity,
            "reporting-org",
            ref=self.reporting.ref,
            type=self.reporting.type,
            secondary_reporter="0" if self.reporting.organization_id in named else "1",
        )
        _narrative(reporting, self.reporting.name)
        _narrative(ET.SubElement(activity, "title"), plan.title)
        _narrative(_child(activity, "description", type="1"), self._description(project), "en")
        for participant in participants:
            element = _child(
                activity,
                "participating-org",
                ref=participant.party.ref,
                type=participant.party.type,
                role=participant.role,
                activity_id=participant.activity_id,
            )
            _narrative(element, participant.party.name)
        status, dates = project.status_at(self.as_of)
        _child(activity, "activity-status", code=ACTIVITY_STATUS[status])
        self._dates(activity, plan.planned_start, plan.planned_end, dates)
        _child(activity, "recipient-country", code="CN")
        if plan.region is not None and not plan.pooled_fund:
            self._location(activity, plan.region)
        self._sectors(activity, plan.category, plan.field)
        for campaign in plan.campaigns:
            tag = _child(activity, "tag", vocabulary="99", vocabulary_uri=CAMPAIGN_VOCABULARY_URI, code=campaign)
            _narrative(tag, campaign)
        _child(activity, "default-flow-type", code="30")  # private development finance
        _child(activity, "default-finance-type", code="110")  # standard grant
        if plan.budget is not None:
            self._budget(
                activity, plan.planned_start, plan.planned_end, Decimal(plan.budget.value), plan.budget.currency
            )
        for fact in facts:
            if fact.column in TRANSACTION_TYPES:
                self._transaction(activity, project, fact)
        self._documents(activity, project)
        return activity

    def _description(self, project: ProjectRecord) -> str:
        plan = project.plan
        if plan.pooled_fund:
            where = (
                "A pooled fund held by its implementing organization; money regranted from it appears in the "
                "receiving projects' activities with this activity as provider-activity-id."
            )
        else:
            where = f"Aid project in county {plan.region} (GB/T 2260)."
        campaigns = f" Campaigns: {', '.join(plan.campaigns)}." if plan.campaigns else ""
        gifts = self._unvalued_text(project)
        return f"{where} Category {plan.category}, field {plan.field}.{campaigns}{gifts} Recorded in aidledger."

    def _participants(self, project: ProjectRecord) -> list[_Participant]:
        """Funding (1) donors and extending (3) channels of the pledges that count; implementing (4)."""
        funders: dict[tuple[str | None, str, str | None], _Party] = {}
        channels: dict[tuple[str | None, str], _Party] = {}
        for pledge in self.pledges.get(project.id, []):
            figures = self.columns.get(pledge.id)
            gift = pledge.id in self.unvalued.get(project.id, {})
            if not gift and (figures is None or not (figures["pledged"] or figures["net_disbursed"])):
                continue
            donor = self.donor(pledge)
            source = self._source_activity(pledge)
            funders[(donor.ref, donor.name, source)] = donor
            if pledge.channel_id is not None:
                channel = self.party(pledge.channel_id)
                channels[(channel.ref, channel.name)] = channel
        participants = [
            _Participant("1", party, source)
            for (_, _, source), party in sorted(funders.items(), key=lambda item: (item[0][1], item[0][2] or ""))
        ]
        participants += [_Participant("3", party, None) for _, party in sorted(channels.items(), key=lambda i: i[0][1])]
        participants.append(_Participant("4", self.party(project.plan.implementing_organization_id), None))
        return participants

    def _source_activity(self, pledge: PledgeRecord) -> str | None:
        """The pooled fund's activity a regrant's money comes from."""
        if pledge.funded_from is None:
            return None
        source = self.fold.pledges.get(pledge.funded_from)
        return self.identifier(source.project_id) if source is not None else None

    @staticmethod
    def _dates(activity: ET.Element, start: date, end: date, reached: dict[Any, date]) -> None:
        actual = {str(status): day for status, day in reached.items()}
        for code, day in (
            ("1", start),
            ("2", actual.get("started")),
            ("3", end),
            ("4", actual.get("completed") or actual.get("cancelled")),
        ):
            if day is not None:
                _child(activity, "activity-date", type=code, iso_date=day.isoformat())

    @staticmethod
    def _location(activity: ET.Element, region: str) -> None:
        location = _child(activity, "location", ref=f"CN-GB2260-{region}")
        _child(location, "location-reach", code="1")
        _narrative(ET.SubElement(location, "name"), f"GB/T 2260 {region}")
        _child(location, "location-class", code="1")  # administrative region
        _child(location, "feature-designation", code="ADM3")  # county: third-order division

    @staticmethod
    def _sectors(activity: ET.Element, category: str, field: str) -> None:
        own = _child(
            activity, "sector", vocabulary="99", vocabulary_uri=SECTOR_VOCABULARY_URI, code=f"{category}.{field}"
        )
        _narrative(own, f"{category} / {field}", "en")
        code, name = dac_sector(category, field)
        dac = _child(activity, "sector", vocabulary="1", code=code)
        _narrative(dac, name, "en")

    @staticmethod
    def _budget(activity: ET.Element, start: date, end: date, value: Decimal, currency: str) -> None:
        for first, last, share in budget_periods(start, end, value):
            budget = _child(activity, "budget", type="1", status="1")
            _child(budget, "period-start", iso_date=first.isoformat())
            _child(budget, "period-end", iso_date=last.isoformat())
            _child(budget, "value", currency=currency, value_date=first.isoformat()).text = str(share)

    def _transaction(self, activity: ET.Element, project: ProjectRecord, fact: Fact) -> None:
        pledge = self.fold.pledges[fact.pledge_id]
        amount = -fact.amount if fact.column in ("reversed", "returned") else fact.amount
        transaction = _child(activity, "transaction", ref=f"aidledger-position-{fact.position}-{fact.column}")
        _child(transaction, "transaction-type", code=TRANSACTION_TYPES[fact.column])
        _child(transaction, "transaction-date", iso_date=fact.effective_on.isoformat())
        currency = pledge.currency
        value = _child(transaction, "value", currency=currency, value_date=fact.effective_on.isoformat())
        value.text = str(money(amount))
        _narrative(ET.SubElement(transaction, "description"), self._transaction_note(pledge, fact), "en")
        donor = self.donor(pledge)
        provider = _child(
            transaction,
            "provider-org",
            ref=donor.ref,
            provider_activity_id=self._source_activity(pledge),
            type=donor.type,
        )
        _narrative(provider, donor.name)
        implementer = self.party(project.plan.implementing_organization_id)
        receiver = _child(
            transaction,
            "receiver-org",
            ref=implementer.ref,
            receiver_activity_id=self.identifier(project.id),
            type=implementer.type,
        )
        _narrative(receiver, implementer.name)
        if not pledge.donation:  # the activity's defaults say grant: say what this flow is instead
            flow_type, finance_type = FLOW_CODES[pledge.flow]
            _child(transaction, "flow-type", code=flow_type)
            _child(transaction, "finance-type", code=finance_type)

    def _transaction_note(self, pledge: PledgeRecord, fact: Fact) -> str:
        parts = [_EVENT_LABELS.get(fact.event, fact.event)]
        if fact.column in ("intended", "signed"):
            parts.append(f"stage {fact.column}")
        if fact.disbursement_id is not None and fact.column == "disbursed":
            confirmed = self.confirmed_on.get(fact.disbursement_id)
            parts.append(
                f"receipt confirmed by the recipient (到位) on {confirmed}" if confirmed else "not yet confirmed"
            )
        parts += self._goods_note(pledge, fact)
        if pledge.channel_id is not None:
            parts.append(f"handled by {self.party(pledge.channel_id).name}")
        if pledge.funded_from is not None:
            parts.append("regranted from a pooled fund")
        return "; ".join(parts)

    def _goods_note(self, pledge: PledgeRecord, fact: Fact) -> list[str]:
        """The goods of this fact: a delivery's own quantities, never the pledge's total."""
        if fact.disbursement_id is None:
            return [f"in kind: {_items_text(pledge.items)} (assessed value)"] if pledge.items else []
        delivered = self.fold.disbursements[fact.disbursement_id].items
        if fact.column == "returned" and (delivered or pledge.items):
            return [f"value of goods given back; quantity not recorded (delivered: {_items_text(delivered)})"]
        if delivered:
            return [f"in kind: {_items_text(delivered)} (assessed value)"]
        if pledge.items:
            return [f"in kind; quantity of this delivery not recorded (pledged: {_items_text(pledge.items)})"]
        return []

    def _documents(self, activity: ET.Element, project: ProjectRecord) -> None:
        for entry in project.disclosures:
            disclosure = entry.disclosure
            if disclosure.url is None or not self.as_of.includes(entry.position, entry.recorded_at, entry.published_on):
                continue
            link = _child(activity, "document-link", format="text/html", url=disclosure.url)
            title = f"{disclosure.kind} report for {disclosure.period_start}..{disclosure.period_end}"
            _narrative(ET.SubElement(link, "title"), title, "en")
            _child(link, "category", code="A07" if disclosure.kind == "progress" else "A08")
            _child(link, "document-date", iso_date=entry.published_on.isoformat())

    def _last_updated(self, project: ProjectRecord, facts: list[Fact]) -> datetime | None:
        times = [project.recorded_at]
        times += [c.recorded_at for c in project.status_changes if self.as_of.knows(c.position, c.recorded_at)]
        times += [r.recorded_at for r in project.beneficiaries if self.as_of.knows(r.position, r.recorded_at)]
        times += [d.recorded_at for d in project.disclosures if self.as_of.knows(d.position, d.recorded_at)]
        times += [fact.recorded_at for fact in facts]
        return max(times) if times else None
