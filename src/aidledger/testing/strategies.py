"""Hypothesis strategies for the ledger's commands and whole histories, valid and invalid.

Everything here produces *command records* in the format of
:func:`aidledger.interchange.commands.run_command`: plain JSON-ready dicts with ``"command"``,
``"command_id"``, ``"recorded_by"``, ``"effective_on"`` and the command's fields, where
references name the command id of the command that created the object (``"pledge_id": "pl-3"``)
or, now and then, the object's UUID.

Two layers:

- single commands that need no state: :func:`organizations`, :func:`projects` (incl. pooled
  funds), :func:`pledges` (cash or in kind, intended or signed, anonymous, a donation or another
  flow, with a ``channel`` or ``funded_from`` regrant), :func:`disbursements`, and amounts biased to the edges
  (:func:`edge_amounts`: one fen, exactly the limit, one fen more, the maximum);
- commands that follow a history: :func:`commands` draws the next record given a
  :class:`~aidledger.testing.model.LedgerModel` of what happened so far, so it can aim at the
  edges that matter (exactly the outstanding amount of a pledge, one fen more, exactly the money
  a pooled-fund pledge still has to regrant, ...), at corrections (reversal, return, amendment,
  withdrawal), at backdated events, at refusals of every kind, and at idempotency (a repeated
  command, a command id reused for another command). :func:`histories` strings such records
  together; :func:`pledge_lifecycles` draws records that touch one new pledge only (for
  metamorphic tests that reorder independent commands).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from aidledger.testing.model import CURRENCY_SCALES, MAX_AMOUNT, SCHEMAS, LedgerModel, ModelPledge, resolve

__all__ = [
    "COUNTIES",
    "CURRENCIES",
    "DATE_RANGE",
    "KINDS",
    "MAX_AMOUNT",
    "ONE_FEN",
    "RECORDED_BY",
    "amount_field",
    "commands",
    "disbursements",
    "edge_amounts",
    "effective_dates",
    "histories",
    "invalid_amounts",
    "invalid_records",
    "organizations",
    "pledge_amounts",
    "pledge_lifecycles",
    "pledges",
    "projects",
    "unit_of",
]

ONE_FEN = Decimal("0.01")
ZERO_AMOUNT = Decimal("0.00")
"""The smallest CNY amount: one fen (分)."""

RECORDED_BY = "property-tester"
"""The ``recorded_by`` every generated record carries."""

COUNTIES = ("130722", "130723", "130724", "130725", "130826", "130828", "130631", "130623")
"""Recipient counties among Zhangjiakou, Chengde and Baoding (synthetic examples)."""

HOME_REGIONS = ("110000", "120000", "130000", "130700", "130800", "130600")
CAMPAIGNS = ("百县千社", "京津冀协同", "demo-2019")
CURRENCIES = ("CNY", "USD", "JPY")
"""Currencies histories use: mostly CNY, some USD (2 places) and JPY (no minor unit)."""

DATE_RANGE = (date(2017, 1, 1), date(2022, 12, 31))
"""Effective dates are drawn in this range."""

KINDS = (
    "register_organization",
    "register_project",
    "make_pledge",
    "regrant",
    "disburse",
    "sign_pledge",
    "amend_pledge",
    "withdraw_pledge",
    "confirm_disbursement",
    "reverse_disbursement",
    "return_disbursement",
    "project_life",
    "organization_life",
    "repeat",
    "reuse_command_id",
    "invalid",
    "dangling_reference",
)
"""What :func:`commands` can aim at; ``regrant`` is a ``make_pledge`` with ``funded_from``."""

Draw = st.DrawFn
Record = dict[str, Any]


def _chance(draw: Draw, one_in: int) -> bool:
    """True once in ``one_in`` draws (shrinks towards False)."""
    return bool(draw(st.integers(0, one_in - 1)) == 0)


def _between(draw: Draw, low: Decimal, high: Decimal, unit: Decimal) -> Decimal:
    """An amount from ``low`` to ``high`` in steps of ``unit`` (drawn as a whole number of units)."""
    units: int = draw(st.integers(int(low / unit), int(high / unit)))
    return (unit * units).quantize(unit)


def unit_of(currency: str) -> Decimal:
    """The smallest amount of ``currency`` the ledger accepts (0.01, or 1 for JPY)."""
    return Decimal(1).scaleb(-CURRENCY_SCALES[currency])


def amount_field(value: Decimal, currency: str = "CNY") -> str | dict[str, str]:
    """An amount as a record carries it: a yuan string, or ``{"value", "currency"}``."""
    text = str(value.quantize(ONE_FEN))
    return text if currency == "CNY" else {"value": text, "currency": currency}


# -- amounts and dates ----------------------------------------------------------------------------


def _pledge_amount(draw: Draw, currency: str) -> Decimal:
    unit = unit_of(currency)
    maximum = MAX_AMOUNT.quantize(unit, rounding="ROUND_DOWN")
    choice = draw(st.integers(0, 2))
    if choice == 0:
        fixed = [Decimal("1000.00"), Decimal("50000.00"), unit, maximum, Decimal("1234567.89").quantize(unit)]
        value: Decimal = draw(st.sampled_from(fixed))
        return value
    return _between(draw, unit, Decimal(1_000_000) if choice == 1 else maximum, unit)


def _edge(draw: Draw, limit: Decimal, currency: str) -> Decimal:
    unit = unit_of(currency)
    maximum = MAX_AMOUNT.quantize(unit, rounding="ROUND_DOWN")
    edges = [limit, limit + unit, unit, maximum] + ([limit - unit] if limit > unit else [])
    choice = draw(st.integers(0, len(edges)))
    if choice < len(edges) and edges[choice] > 0:
        return edges[choice]
    return _between(draw, unit, max(limit, unit), unit)


@st.composite
def pledge_amounts(draw: Draw, currency: str = "CNY") -> Decimal:
    """Pledge amounts: one fen, the maximum, round sums and arbitrary exact amounts."""
    return _pledge_amount(draw, currency)


@st.composite
def edge_amounts(draw: Draw, limit: Decimal, currency: str = "CNY") -> Decimal:
    """Amounts aimed at a limit: exactly ``limit``, one unit more or less, one unit, the maximum.

    ``limit`` is what a rule allows (the outstanding amount of a pledge, what remains of a
    disbursement, the money a pool still has to regrant). The draws fall on both sides of it,
    and include the ledger's maximum amount (999999999999999.99), so accept and refuse both happen.
    """
    return _edge(draw, limit, currency)


def invalid_amounts() -> st.SearchStrategy[Any]:
    """Amounts the ledger refuses as input: zero, negative, too precise, too large, floats, text."""
    return st.sampled_from(
        [
            "0",
            "0.00",
            "-0.01",
            "-100.00",
            "0.001",
            "12.345",
            "1000000000000000",
            "1000000000000000.00",
            1.5,
            True,
            "1e3",
            "12,000.00",
            "",
            "NaN",
            {"value": "10.00", "currency": "QQQ"},
            {"value": "10.50", "currency": "JPY"},
            {"value": "10.00", "currency": "CNY", "rate": "1"},
        ]
    )


@st.composite
def effective_dates(draw: Draw, after: date | None = None, *, backdated: bool = True) -> date:
    """Dates of the world, mostly a little after ``after``; one in four backdated before it."""
    return _draw_day(draw, after, backdated=backdated)


def _draw_day(draw: Draw, after: date | None, *, backdated: bool = True) -> date:
    low, high = DATE_RANGE
    start = after or date(2018, 1, 1)
    if backdated and _chance(draw, 4):
        return max(start - timedelta(days=draw(st.integers(1, 400))), low)
    return min(start + timedelta(days=draw(st.integers(0, 60))), high)


def _day(draw: Draw, model: LedgerModel | None) -> str:
    after = max(model.dates) if model is not None and model.dates else None
    return _draw_day(draw, after).isoformat()


def _envelope(name: str, command_id: str, day: str) -> Record:
    return {"command": name, "command_id": command_id, "recorded_by": RECORDED_BY, "effective_on": day}


def _fresh_id(draw: Draw, prefix: str) -> str:
    return f"{prefix}-{draw(st.uuids()).hex[:12]}"


# -- single commands ----------------------------------------------------------------------------


def _organization(draw: Draw, command_id: str, day: str) -> Record:
    record = _envelope("register_organization", command_id, day) | {
        "name": f"组织 {command_id}",
        "kind": draw(st.sampled_from(["foundation", "social_group", "social_service_agency", "enterprise", "other"])),
        "level": draw(st.sampled_from(["provincial", "national", "municipal", "county"])),
        "home_region": draw(st.sampled_from(HOME_REGIONS)),
    }
    if _chance(draw, 2):
        record["charity"] = True
        if _chance(draw, 2):
            record |= {"public_fundraising": True, "public_fundraising_from": "2017-01-01"}
    if _chance(draw, 10):
        record["credit_code"] = "91110000600037341L"
    return record


@st.composite
def organizations(draw: Draw, command_id: str | None = None, effective_on: str | None = None) -> Record:
    """``register_organization`` records: any kind and level, some charities with fundraising."""
    cid = command_id or _fresh_id(draw, "org")
    return _organization(draw, cid, effective_on or _draw_day(draw, None).isoformat())


def _project(draw: Draw, command_id: str, day: str, implementer: str, pooled_fund: bool | None) -> Record:
    pooled = _chance(draw, 3) if pooled_fund is None else pooled_fund
    start = date.fromisoformat(day) + timedelta(days=draw(st.integers(-30, 60)))
    end = start + timedelta(days=draw(st.integers(0, 900)))
    record = _envelope("register_project", command_id, day) | {
        "title": f"项目 {command_id}",
        "implementing_organization_id": implementer,
        "category": draw(st.sampled_from(["direct_aid", "capacity", "public_welfare"])),
        "field": draw(st.sampled_from(["industry", "education", "health", "employment", "relocation", "other"])),
        "campaigns": draw(st.lists(st.sampled_from(CAMPAIGNS), max_size=2, unique=True)),
        "planned_start": start.isoformat(),
        "planned_end": end.isoformat(),
    }
    if pooled:
        record |= {"pooled_fund": True, "region": None}
    else:
        record["region"] = draw(st.sampled_from(COUNTIES))
    return record


@st.composite
def projects(
    draw: Draw,
    implementer: str,
    *,
    pooled_fund: bool | None = None,
    command_id: str | None = None,
    effective_on: str | None = None,
) -> Record:
    """``register_project`` records implemented by ``implementer``: county projects or pooled funds."""
    cid = command_id or _fresh_id(draw, "prj")
    return _project(draw, cid, effective_on or _draw_day(draw, None).isoformat(), implementer, pooled_fund)


def _pledge(
    draw: Draw,
    command_id: str,
    day: str,
    donor: str,
    project: str,
    *,
    amount: Decimal,
    currency: str,
    funded_from: str | None = None,
    channel: str | None = None,
    unvalued: bool = False,
) -> Record:
    """A pledge record; with ``unvalued``, goods are sometimes given with no amount (an unvalued gift)."""
    record = _envelope("make_pledge", command_id, day) | {
        "donor_id": donor,
        "project_id": project,
        "amount": amount_field(amount, currency),
    }
    if _chance(draw, 4):
        record["stage"] = "intended"
    if _chance(draw, 5):
        quantity = draw(st.sampled_from(["400", "2.5", "1", "370000"]))
        record["items"] = [{"description": "棉被", "quantity": quantity, "unit": "床"}]
        if unvalued and _chance(draw, 2):  # an unvalued gift: goods with no assessed value, counted but never money
            del record["amount"]
            if currency != "CNY" or _chance(draw, 4):
                record["currency"] = currency
    if _chance(draw, 5):
        record["anonymous"] = True
    if _chance(draw, 8):  # not a donation: kept out of donation totals (a regrant or a pool refuses it)
        record["flow"] = draw(st.sampled_from(["investment", "loan"]))
    if channel is not None:
        record["channel_id"] = channel
    if funded_from is not None:
        record["funded_from"] = funded_from
    return record


@st.composite
def pledges(
    draw: Draw,
    donor: str,
    project: str,
    *,
    currency: str = "CNY",
    channel: str | None = None,
    funded_from: str | None = None,
    command_id: str | None = None,
    effective_on: str | None = None,
) -> Record:
    """``make_pledge`` records from ``donor`` to ``project``: cash or in kind, intended or signed,
    sometimes anonymous, optionally through a ``channel`` or regranted ``funded_from`` a pool pledge."""
    cid = command_id or _fresh_id(draw, "pl")
    day = effective_on or _draw_day(draw, None).isoformat()
    amount = _pledge_amount(draw, currency)
    return _pledge(
        draw, cid, day, donor, project, amount=amount, currency=currency, funded_from=funded_from, channel=channel
    )


@st.composite
def disbursements(
    draw: Draw,
    pledge: str,
    *,
    outstanding: Decimal | None = None,
    currency: str = "CNY",
    command_id: str | None = None,
    effective_on: str | None = None,
) -> Record:
    """``disburse`` records against ``pledge``; amounts at the edges of ``outstanding`` when given."""
    cid = command_id or _fresh_id(draw, "d")
    day = effective_on or _draw_day(draw, None).isoformat()
    amount = _edge(draw, outstanding, currency) if outstanding is not None else _pledge_amount(draw, currency)
    return _envelope("disburse", cid, day) | {
        "pledge_id": pledge,
        "amount": amount_field(amount, currency),
        "method": draw(st.sampled_from(["bank_transfer", "cash", "goods_delivery"])),
    }


# -- commands that follow a history ---------------------------------------------------------------


def _ids(model: LedgerModel, kind: str, keep: Callable[[Any], bool]) -> list[str]:
    """Command ids of the ``kind`` objects (``pledge``, ``project``, ...) the predicate keeps."""
    found = getattr(model, f"{kind}s")
    return [cid for cid in model.created[kind] if keep(found[resolve(cid, kind)])]


def _pick(draw: Draw, model: LedgerModel, kind: str, preferred: Sequence[str] = ()) -> str:
    """A reference to an object of ``kind``: usually its command id, sometimes its UUID.

    Three times in four it is one of ``preferred`` (when there are any), otherwise any object.
    """
    options = list(preferred) if preferred and not _chance(draw, 4) else list(model.created[kind])
    if not options:
        return _fresh_id(draw, "missing")
    command_id: str = draw(st.sampled_from(options))
    if _chance(draw, 10):
        return str(resolve(command_id, kind))
    return command_id


def _pledge_state(model: LedgerModel, command_id: str) -> ModelPledge | None:
    return model.pledges.get(resolve(command_id, "pledge"))


def _currency(draw: Draw) -> str:
    code: str = draw(st.sampled_from(["CNY"] * 8 + ["USD", "JPY"]))
    return code


def _next_id(model: LedgerModel, prefix: str, tag: str) -> str:
    return f"{prefix}{tag}-{len(model.records) + 1}"


def _make_pledge(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    donor = _pick(draw, model, "organization")
    pools = _ids(model, "project", lambda project: project.pooled_fund)
    project = _pick(draw, model, "project", pools if _chance(draw, 3) else ())
    currency = _currency(draw)
    channel = _pick(draw, model, "organization") if _chance(draw, 5) else None
    amount = _pledge_amount(draw, currency)
    return _pledge(draw, cid, day, donor, project, amount=amount, currency=currency, channel=channel, unvalued=True)


def _regrant(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A pledge ``funded_from`` a pool pledge, for about what the pool pledge still has free, mostly
    by the pool's implementing organization (the one donor a regrant accepts)."""
    funded = _ids(
        model,
        "pledge",
        lambda p: model.projects[p.project].pooled_fund and p.net_disbursed > p.regranted and not p.withdrawn,
    )
    source_cid = _pick(draw, model, "pledge", funded)
    source = _pledge_state(model, source_cid)
    currency = source.currency if source is not None and not _chance(draw, 10) else _currency(draw)
    free = source.net_disbursed - source.regranted if source is not None else ONE_FEN
    amount = _edge(draw, free, currency)
    others = [c for c in model.created["project"] if source is None or resolve(c, "project") != source.project]
    project = _pick(draw, model, "project", others)
    holder = model.projects[source.project].implementer if source is not None else None
    holders = [c for c in model.created["organization"] if resolve(c, "organization") == holder]
    donor = _pick(draw, model, "organization", holders)
    pools = [c for c in model.created["project"] if source is not None and resolve(c, "project") == source.project]
    if pools and _chance(draw, 2):  # name the pool: the library picks its pledges, oldest money first
        pool = model.projects[resolve(pools[0], "project")].id
        held = [p for p in model.pledges.values() if p.project == pool and p.currency == currency and not p.withdrawn]
        free = sum((p.net_disbursed - p.regranted for p in held), ZERO_AMOUNT)
        amount = _edge(draw, max(free, ONE_FEN), currency)
        record = _pledge(draw, cid, day, donor, project, amount=amount, currency=currency)
        return record | {"funded_from_pool": pools[0]}
    return _pledge(draw, cid, day, donor, project, amount=amount, currency=currency, funded_from=source_cid)


def _pledge_change(draw: Draw, model: LedgerModel, name: str, cid: str, day: str) -> Record:
    """``sign_pledge``, ``amend_pledge`` (amounts at the disbursed floor and around) or ``withdraw_pledge``."""
    intended = _ids(model, "pledge", lambda p: p.stage == "intended" and not p.withdrawn)
    standing = _ids(model, "pledge", lambda p: not p.withdrawn)
    ref = _pick(draw, model, "pledge", intended if name == "sign_pledge" else standing)
    record = _envelope(name, cid, day) | {"pledge_id": ref}
    pledge = _pledge_state(model, ref)
    if name == "amend_pledge":
        currency = pledge.currency if pledge is not None and not _chance(draw, 10) else _currency(draw)
        if pledge is None or _chance(draw, 4):
            amount = _pledge_amount(draw, currency)
        else:
            amount = _edge(draw, pledge.net_disbursed if _chance(draw, 2) else pledge.amount, currency)
        record |= {"amount": amount_field(amount, currency), "reason": "协议变更"}
    elif name == "withdraw_pledge":
        record["reason"] = "捐赠方撤回"
    return record


GOODS = [{"description": "棉被", "quantity": "100", "unit": "床"}]
"""What a delivery of goods with no amount hands over."""


def _disburse(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    gifts = _ids(model, "pledge", lambda p: p.unvalued and p.stage == "signed" and not p.withdrawn)
    if _chance(draw, 3 if gifts else 25):  # goods with no amount: against an unvalued gift, or refused
        ref = _pick(draw, model, "pledge", gifts)
        return _envelope("disburse", cid, day) | {"pledge_id": ref, "items": GOODS, "method": "goods_delivery"}
    live = _ids(model, "pledge", lambda p: p.stage == "signed" and not p.withdrawn and p.outstanding > 0)
    ref = _pick(draw, model, "pledge", live)
    pledge = _pledge_state(model, ref)
    currency = pledge.currency if pledge is not None and not _chance(draw, 15) else _currency(draw)
    outstanding = pledge.outstanding if pledge is not None else ONE_FEN
    record = _envelope("disburse", cid, day) | {
        "pledge_id": ref,
        "amount": amount_field(_edge(draw, outstanding, currency), currency),
    }
    if _chance(draw, 5):
        record["method"] = "goods_delivery"
    return record


def _disbursement_change(draw: Draw, model: LedgerModel, name: str, cid: str, day: str) -> Record:
    """``confirm_disbursement``, ``reverse_disbursement`` or ``return_disbursement`` (amounts at the edges)."""
    standing = _ids(model, "disbursement", lambda d: not d.reversed)
    aimed = {  # the states where a correction is easiest to get wrong
        "confirm_disbursement": lambda d: not d.reversed and not d.confirmed,
        "reverse_disbursement": lambda d: not d.reversed and (d.confirmed or d.returned > 0),
        "return_disbursement": lambda d: not d.reversed and d.returned < d.amount,
    }[name]
    targets = _ids(model, "disbursement", aimed)
    ref = _pick(draw, model, "disbursement", targets if targets and _chance(draw, 2) else standing)
    record = _envelope(name, cid, day) | {"disbursement_id": ref}
    if name == "reverse_disbursement":
        record["reason"] = "录入错误"
    elif name == "return_disbursement":
        found = model.disbursements.get(resolve(ref, "disbursement"))
        remaining = found.amount - found.returned if found is not None else ONE_FEN
        currency = model.pledges[found.pledge].currency if found is not None else "CNY"
        if _chance(draw, 15):
            currency = _currency(draw)
        record |= {"amount": amount_field(_edge(draw, remaining, currency), currency), "reason": "退回"}
    return record


def _project_life(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A beneficiary report, a start, a disclosure, a completion or a cancellation."""
    names = ["report_beneficiaries"] * 3 + ["start_project"] * 2 + ["record_disclosure", "complete_project"]
    name: str = draw(st.sampled_from([*names, "cancel_project"]))
    record = _envelope(name, cid, day) | {"project_id": _pick(draw, model, "project")}
    if name == "report_beneficiaries":
        record["person_times"] = draw(st.integers(0, 5000))
        if _chance(draw, 2):
            record["households"] = draw(st.integers(0, 800))
        if _chance(draw, 2):
            record["persons"] = draw(st.integers(0, 3000))
    elif name == "record_disclosure":
        record |= {
            "kind": draw(st.sampled_from(["progress", "final"])),
            "period_start": min(day, "2018-01-01"),
            "period_end": day,
            "channel": "慈善中国",
        }
    elif name == "cancel_project":
        record["reason"] = "项目取消"
    return record


_PROFILE_CHANGES: list[Record] = [
    {"level": "national"},
    {"level": "municipal"},
    {"kind": "social_group"},
    {"home_region": "110000"},
    {"name": "更名后的组织"},
    {"charity": False},
    {"charity": True, "public_fundraising": True},
    {"credit_code": "91110000600037341L"},
    {"clear": ["credit_code"]},
    {"clear": ["public_fundraising_from", "charity_since"]},
    {"clear": ["credit_code"], "credit_code": "91110000600037341L"},  # both: refused as input
]


def _organization_life(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A profile update (level, kind, home, name, charity status, credit code, a field cleared) or, one
    time in four, deregistration."""
    ref = _pick(draw, model, "organization")
    if _chance(draw, 4):
        return _envelope("deregister_organization", cid, day) | {"organization_id": ref, "reason": "注销"}
    changes: Record = draw(st.sampled_from(_PROFILE_CHANGES))
    return _envelope("update_organization", cid, day) | {"organization_id": ref} | changes


def _repeat(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A record given before, unchanged: a no-op if it was stored, decided again if it was refused."""
    if not model.records:
        return _organization(draw, cid, day)
    record: Record = dict(draw(st.sampled_from(model.records)))
    return record


def _reuse_command_id(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A stored command id with another payload: the ledger refuses it as a conflict."""
    if not model.accepted:
        return _organization(draw, cid, day)
    original: Record = dict(draw(st.sampled_from(model.accepted)))
    if _chance(draw, 2):
        shifted = date.fromisoformat(original["effective_on"]) + timedelta(days=draw(st.integers(1, 30)))
        return original | {"effective_on": shifted.isoformat()}
    return _organization(draw, original["command_id"], day)


def _dangling(draw: Draw, model: LedgerModel, cid: str, day: str) -> Record:
    """A reference to nothing: an unknown command id, a random UUID, or an id of another kind."""
    record = _disburse(draw, model, cid, day) if _chance(draw, 2) else _make_pledge(draw, model, cid, day)
    field_name = "pledge_id" if record["command"] == "disburse" else draw(st.sampled_from(["donor_id", "project_id"]))
    kind_of_field = {"pledge_id": "pledge", "donor_id": "organization", "project_id": "project"}[field_name]
    kinds = [kind for kind in ("organization", "project", "pledge") if kind != kind_of_field]
    wrong_kind = [command_id for kind in kinds for command_id in model.created[kind]]
    choice = draw(st.integers(0, 2))
    if choice == 0 or not wrong_kind:
        target = "never-recorded"
    elif choice == 1:
        target = str(draw(st.uuids()))
    else:
        target = draw(st.sampled_from(wrong_kind))
    return record | {field_name: target}


# -- invalid input --------------------------------------------------------------------------------

_BASES = ("organization", "project", "pledge", "disburse", "amend", "return", "cancel")


def _valid_shape(draw: Draw, model: LedgerModel, base: str, cid: str, day: str) -> Record:
    if base == "organization":
        return _organization(draw, cid, day)
    if base == "project":
        return _project(draw, cid, day, _pick(draw, model, "organization"), None)
    if base == "pledge":
        return _make_pledge(draw, model, cid, day)
    if base == "disburse":
        return _disburse(draw, model, cid, day)
    if base == "amend":
        return _pledge_change(draw, model, "amend_pledge", cid, day)
    if base == "return":
        return _disbursement_change(draw, model, "return_disbursement", cid, day)
    return _envelope("cancel_project", cid, day) | {"project_id": _pick(draw, model, "project"), "reason": "取消"}


def _breakages(draw: Draw, record: Record) -> list[Callable[[], Record]]:
    """Ways to break ``record``'s input, each a function returning the broken record."""
    name = record["command"]
    required = [key for key, (needed, _) in SCHEMAS[name].items() if needed] + ["effective_on"]
    missing: str = draw(st.sampled_from(required))
    ways: list[Callable[[], Record]] = [
        lambda: {k: v for k, v in record.items() if k != missing},
        lambda: record | {"colour": "red"},
        lambda: record | {"effective_on": draw(st.sampled_from(["2018-02-30", "2018/03/01", "", "yesterday"]))},
        lambda: record | {"command": draw(st.sampled_from(["make_pledges", "delete_pledge", ""]))},
        lambda: record | {"recorded_by": ""},
        lambda: record | {"command_id": ""},
        lambda: record | {"source": {"reference": ""}},
    ]
    if "amount" in record:
        ways.append(lambda: record | {"amount": draw(invalid_amounts())})
    if "reason" in record:
        ways.append(lambda: record | {"reason": draw(st.sampled_from(["", "   ", "撤回\r覆盖", "原因\x1b[2J"]))})
    ways.append(lambda: record | {"recorded_by": "clerk\x1b[8m"})
    if name == "register_organization":
        ways += [
            lambda: record | {"kind": "charity_shop"},
            lambda: record | {"home_region": draw(st.sampled_from(["990000", "13072", "abcdef"]))},
            lambda: record | {"charity": False, "public_fundraising": True},
            lambda: record | {"credit_code": "91110000600037341X"},
            lambda: record | {"name": "   "},
            lambda: (
                record | {"name": draw(st.sampled_from(["基金会\x1b[2J", "基金\t会", "第一行\n第二行", "会\x9b31m"]))}
            ),
        ]
    elif name == "register_project":
        ways += [
            lambda: record | {"planned_end": "2016-12-31", "planned_start": "2017-01-01"},
            lambda: record | {"region": None, "pooled_fund": False},
            lambda: record | {"category": "charity"},
            lambda: record | {"campaigns": [""]},
            lambda: record | {"title": "+SUM\x1b]0;pwned\x07(1)"},
        ]
    elif name == "make_pledge":
        ways += [
            lambda: record | {"stage": "maybe"},
            lambda: record | {"items": [{"description": "米", "quantity": "0", "unit": "kg"}]},
            lambda: record | {"anonymous": None},
            lambda: record | {"flow": "gift"},
            lambda: {k: v for k, v in record.items() if k not in ("amount", "items")},  # no amount, no goods
        ]
    return ways


def _invalid(draw: Draw, model: LedgerModel, prefix: str) -> Record:
    cid = _next_id(model, prefix, "bad")
    record = _valid_shape(draw, model, draw(st.sampled_from(_BASES)), cid, _day(draw, model))
    way: Callable[[], Record] = draw(st.sampled_from(_breakages(draw, record)))
    return way()


@st.composite
def invalid_records(draw: Draw, model: LedgerModel | None = None, prefix: str = "") -> Record:
    """Records the ledger refuses as bad input (:class:`~aidledger.errors.InvalidInput`).

    A valid record is broken one way: a required field missing, an unknown field, a bad amount,
    date, enum value, region or reason, a control character in a name, title, reason or actor (a
    newline is refused only outside reasons), an unknown command, an empty command id or actor, a plan
    that ends before it starts, a project with no region that is no pooled fund, public
    fundraising without charity status, a credit code with a wrong check digit.
    """
    return _invalid(draw, model or LedgerModel(), prefix)


# -- the next command, and whole histories ---------------------------------------------------------

_WEIGHTS: dict[str, int] = {
    "register_organization": 1,
    "register_project": 2,
    "make_pledge": 5,
    "regrant": 3,
    "disburse": 7,
    "sign_pledge": 2,
    "amend_pledge": 3,
    "withdraw_pledge": 1,
    "confirm_disbursement": 2,
    "reverse_disbursement": 2,
    "return_disbursement": 2,
    "project_life": 2,
    "organization_life": 1,
    "repeat": 1,
    "reuse_command_id": 1,
    "invalid": 2,
    "dangling_reference": 1,
}

_TAGS = {
    "register_organization": "org",
    "register_project": "prj",
    "make_pledge": "pl",
    "regrant": "pl",
    "disburse": "d",
}

_BUILDERS: dict[str, Callable[[Draw, LedgerModel, str, str], Record]] = {
    "register_organization": lambda draw, model, cid, day: _organization(draw, cid, day),
    "register_project": lambda draw, model, cid, day: _project(
        draw, cid, day, _pick(draw, model, "organization"), None
    ),
    "make_pledge": _make_pledge,
    "regrant": _regrant,
    "disburse": _disburse,
    "sign_pledge": lambda draw, model, cid, day: _pledge_change(draw, model, "sign_pledge", cid, day),
    "amend_pledge": lambda draw, model, cid, day: _pledge_change(draw, model, "amend_pledge", cid, day),
    "withdraw_pledge": lambda draw, model, cid, day: _pledge_change(draw, model, "withdraw_pledge", cid, day),
    "confirm_disbursement": lambda draw, model, cid, day: _disbursement_change(
        draw, model, "confirm_disbursement", cid, day
    ),
    "reverse_disbursement": lambda draw, model, cid, day: _disbursement_change(
        draw, model, "reverse_disbursement", cid, day
    ),
    "return_disbursement": lambda draw, model, cid, day: _disbursement_change(
        draw, model, "return_disbursement", cid, day
    ),
    "project_life": _project_life,
    "organization_life": _organization_life,
    "repeat": _repeat,
    "reuse_command_id": _reuse_command_id,
    "dangling_reference": _dangling,
}


def _available(model: LedgerModel, kinds: Sequence[str]) -> list[str]:
    """The kinds worth drawing now (a pledge needs a donor and a project, ...), repeated by weight."""
    have = {kind: bool(model.created[kind]) for kind in ("organization", "project", "pledge", "disbursement")}
    needs = {
        "register_project": have["organization"],
        "make_pledge": have["organization"] and have["project"],
        "regrant": have["pledge"] and have["project"],
        "disburse": have["pledge"],
        "sign_pledge": have["pledge"],
        "amend_pledge": have["pledge"],
        "withdraw_pledge": have["pledge"],
        "confirm_disbursement": have["disbursement"],
        "reverse_disbursement": have["disbursement"],
        "return_disbursement": have["disbursement"],
        "project_life": have["project"],
        "organization_life": have["organization"],
        "repeat": bool(model.records),
        "reuse_command_id": bool(model.accepted),
    }
    weighted = [kind for kind in kinds if needs.get(kind, True) for _ in range(_WEIGHTS[kind])]
    if len(model.created["organization"]) < 2 and "register_organization" in kinds:
        weighted += ["register_organization"] * 6
    if len(model.created["project"]) < 2 and have["organization"] and "register_project" in kinds:
        weighted += ["register_project"] * 6
    return weighted or ["register_organization"]


def _next_command(draw: Draw, model: LedgerModel, kinds: Sequence[str], prefix: str) -> Record:
    kind: str = draw(st.sampled_from(_available(model, kinds)))
    if kind == "invalid":
        return _invalid(draw, model, prefix)
    return _BUILDERS[kind](draw, model, _next_id(model, prefix, _TAGS.get(kind, "c")), _day(draw, model))


@st.composite
def commands(draw: Draw, model: LedgerModel, *, kinds: Sequence[str] = KINDS, prefix: str = "") -> Record:
    """The next command record of a history whose state ``model`` holds.

    The record is not applied: run it on the ledger and on ``model`` (``model.run(record)``)
    before drawing the next one, so command ids stay unique and edges follow the state.
    ``kinds`` limits what is drawn (see :data:`KINDS`); ``prefix`` starts every new command id.
    """
    return _next_command(draw, model, kinds, prefix)


@st.composite
def histories(
    draw: Draw,
    min_size: int = 1,
    max_size: int = 30,
    *,
    kinds: Sequence[str] = KINDS,
    valid_only: bool = False,
    prefix: str = "",
) -> list[Record]:
    """Whole histories: lists of command records, each drawn after the ones before it.

    With ``valid_only`` every record is one the ledger accepts (refused draws are dropped, so a
    history may come out shorter than ``min_size`` when few commands can succeed); otherwise
    refusals of every kind are mixed in. Run the list with
    :func:`aidledger.interchange.commands.run_command` (catching refusals) or with
    :func:`aidledger.testing.invariants.run_history`.
    """
    model = LedgerModel()
    size: int = draw(st.integers(min_value=min_size, max_value=max_size))
    records: list[Record] = []
    for _ in range(size * 4):
        if len(records) >= size:
            break
        record = _next_command(draw, model, kinds, prefix)
        outcome = model.run(record)
        if valid_only and not outcome.accepted:
            continue
        records.append(record)
    return records


_LIFECYCLE_STEPS = (
    "disburse",
    "disburse",
    "sign_pledge",
    "amend_pledge",
    "confirm_disbursement",
    "reverse_disbursement",
    "return_disbursement",
    "withdraw_pledge",
)


@st.composite
def pledge_lifecycles(draw: Draw, model: LedgerModel, prefix: str, max_steps: int = 6) -> list[Record]:
    """Records that touch only one new pledge: made, then signed, disbursed, corrected.

    ``model`` holds the history so far and is not changed (a copy follows the records).
    Lifecycles drawn with different prefixes from one model are independent: they can be run
    in any interleaving and every command gets the same decision.
    """
    own = copy.deepcopy(model)
    pledge_cid = f"{prefix}pl-0"
    first = _make_pledge(draw, own, pledge_cid, _day(draw, own))
    records = [first]
    if not own.run(first).accepted:
        return records
    own.created["pledge"] = [pledge_cid]
    own.created["disbursement"] = []
    for number in range(1, draw(st.integers(0, max_steps)) + 1):
        kind: str = draw(st.sampled_from(_LIFECYCLE_STEPS))
        if kind.endswith("_disbursement") and not own.created["disbursement"]:
            kind = "disburse"
        record = _BUILDERS[kind](draw, own, f"{prefix}{_TAGS.get(kind, 'c')}-{number}", _day(draw, own))
        own.run(record)
        records.append(record)
    return records
