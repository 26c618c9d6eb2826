"""A deliberately simple reference model of the ledger's rules and totals.

The model is written from DESIGN §2–§4 and from the rules the library enforces, with plain dicts,
lists and ``Decimal`` sums: no event sourcing, no pydantic, and no import of
``aidledger.projections``. It reads the same *command records* as
:func:`aidledger.interchange.commands.run_command` (``{"command": ..., "command_id": ..., fields}``,
references by command id or UUID) and, for each one, predicts whether the ledger accepts it,
repeats it (same command id and payload) or refuses it, and with which error class. Accepted
commands change the model's state; from that state it predicts every stage column of every
pledge and totals grouped by the ledger's dimensions.

The order of the checks matters, because a command that breaks two rules is refused with the
first one the ledger checks: input first (:class:`~aidledger.errors.InvalidInput`), then the
command id (:class:`~aidledger.errors.IdempotencyConflict`), then references and rules in the
order the application checks them. That order is part of what the model states.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import product
from typing import Any, NoReturn
from uuid import UUID

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from aidledger import errors
from aidledger.domain.base import derive_id

__all__ = [
    "ANONYMOUS",
    "BASE_COLUMNS",
    "COLUMNS",
    "CURRENCY_SCALES",
    "DIMENSIONS",
    "MAX_AMOUNT",
    "LedgerModel",
    "ModelDisbursement",
    "ModelOrganization",
    "ModelPledge",
    "ModelProject",
    "ModelRow",
    "Outcome",
    "Refused",
    "resolve",
]

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999999.99")
"""The largest amount the ledger accepts (amounts are below 10^15)."""

BASE_COLUMNS = ("intended", "signed", "withdrawn", "disbursed", "confirmed", "reversed", "returned")
"""Stage columns that events feed directly."""

COLUMNS = (
    "intended",
    "signed",
    "pledged",
    "withdrawn",
    "disbursed",
    "confirmed",
    "reversed",
    "returned",
    "net_disbursed",
    "outstanding",
)
"""Every column a totals row has: the base columns and the three derived ones."""

CURRENCY_SCALES = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "GBP": 2, "JPY": 0, "KRW": 0}
"""Currencies the model knows, with the decimal places each accepts (at most 2)."""

NONE = "(none)"
POOLED = "(pooled fund)"
ANONYMOUS = "anonymous (匿名)"
"""The ``donor`` value of anonymous pledges: published reports never name an anonymous donor."""

# First two digits of every GB/T 2260 code (provinces, autonomous regions, municipalities, SARs).
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
_ORGANIZATION_KINDS = frozenset({"foundation", "social_group", "social_service_agency", "enterprise", "other"})
_LEVELS = frozenset({"national", "provincial", "municipal", "county"})
_CATEGORIES = frozenset({"direct_aid", "capacity", "public_welfare"})
_FIELDS = frozenset({"industry", "employment", "education", "health", "volunteer", "relocation", "ecology", "other"})
_STAGES = frozenset({"intended", "signed"})
_FLOWS = frozenset({"donation", "investment", "loan"})
_METHODS = frozenset({"bank_transfer", "cash", "goods_delivery", "service_delivery", "other"})
_DISCLOSURE_KINDS = frozenset({"progress", "final"})

REFERENCE_KINDS = {
    "organization_id": "organization",
    "implementing_organization_id": "organization",
    "donor_id": "organization",
    "channel_id": "organization",
    "project_id": "project",
    "pledge_id": "pledge",
    "funded_from": "pledge",
    "funded_from_pool": "project",
    "disbursement_id": "disbursement",
}


class Refused(Exception):
    """Raised inside the model when a command is refused; carries the predicted error class."""

    def __init__(self, error: type[errors.AidLedgerError], why: str) -> None:
        super().__init__(f"{error.__name__}: {why}")
        self.error = error
        self.why = why


@dataclass(frozen=True)
class Outcome:
    """What the model predicts for one command record."""

    command: str
    command_id: str | None
    status: str
    """``accepted`` (new events stored), ``repeated`` (idempotent no-op) or ``refused``."""
    error: type[errors.AidLedgerError] | None = None
    why: str = ""
    aggregate_id: UUID | None = None

    @property
    def accepted(self) -> bool:
        """The ledger stores new events for this command."""
        return self.status == "accepted"

    @property
    def refused(self) -> bool:
        """The ledger raises ``error`` and stores nothing."""
        return self.status == "refused"


# -- state --------------------------------------------------------------------------------------


@dataclass
class ModelOrganization:
    """An organization: its profile (plain dict) and whether it was deregistered."""

    id: UUID
    profile: dict[str, Any]
    deregistered: bool = False


@dataclass
class ModelProject:
    """A project: what grouping needs, its status and its beneficiary reports."""

    id: UUID
    implementer: UUID
    region: str | None
    pooled_fund: bool
    category: str
    field: str
    campaigns: tuple[str, ...]
    status: str = "registered"
    started_on: date | None = None
    reports: list[tuple[date, int, int, int | None, int | None]] = dataclasses.field(default_factory=list)
    """(as of, sequence, person-times, households, persons) of each beneficiary report."""


@dataclass
class ModelPledge:
    """A pledge and the money paid against it."""

    id: UUID
    donor: UUID
    project: UUID
    currency: str
    amount: Decimal
    stage: str
    made_on: date
    in_kind: bool
    channel: UUID | None
    funded_from: UUID | None
    anonymous: bool
    flow: str = "donation"
    unvalued: bool = False
    """Goods with no assessed value (items, no amount): a gift counted, never money (DESIGN §3 rule 9)."""
    withdrawn: bool = False
    withdrawn_on: date | None = None
    deliveries: set[UUID] = dataclasses.field(default_factory=set)
    """The deliveries against an unvalued gift not reversed (it is not withdrawn while one stands)."""
    stage_on: date | None = None
    """Date of the latest of Made, Signed, Amended, Withdrawn: no later change may predate it."""
    money_on: date | None = None
    """Date of the latest disbursement, reversal or return against it (made_on before any)."""
    disbursed: Decimal = ZERO
    reversed: Decimal = ZERO
    returned: Decimal = ZERO
    allocations: dict[UUID, Decimal] = dataclasses.field(default_factory=dict)
    """What each regrant funded from this pledge currently draws from it."""
    draws: list[tuple[date, Decimal]] = dataclasses.field(default_factory=list)
    """Each change of what regrants draw from this pledge, and the date it counts from."""
    drawn_from: list[UUID] = dataclasses.field(default_factory=list)
    """For a regrant from a pool (``funded_from_pool``): the pledges it draws on, oldest money first."""
    changes: list[tuple[date, Decimal]] = dataclasses.field(default_factory=list)
    """Each change of net disbursed and the date it counts from (a reversal: its disbursement's value date)."""

    def net_as_of(self, day: date) -> Decimal:
        """Net disbursed as of ``day``."""
        return sum((change for on, change in self.changes if on <= day), ZERO)

    @property
    def net_disbursed(self) -> Decimal:
        """Disbursed minus reversed minus returned."""
        return self.disbursed - self.reversed - self.returned

    @property
    def outstanding(self) -> Decimal:
        """The current amount minus net disbursed (what may still be disbursed)."""
        return self.amount - self.net_disbursed

    @property
    def regranted(self) -> Decimal:
        """What regrants funded from this pledge currently draw from it."""
        return sum(self.allocations.values(), ZERO)


@dataclass
class ModelDisbursement:
    """A disbursement and what became of it."""

    id: UUID
    pledge: UUID
    amount: Decimal
    value_date: date
    confirmed: bool = False
    confirmed_on: date | None = None
    reversed: bool = False
    returned: Decimal = ZERO


@dataclass(frozen=True)
class Entry:
    """One signed contribution to one column of one pledge, dated and filed under a year."""

    pledge: UUID
    column: str
    amount: Decimal
    effective_on: date
    year: int


@dataclass(frozen=True)
class ModelRow:
    """One group's predicted figures in one currency."""

    columns: dict[str, Decimal]
    new_money: dict[str, Decimal]
    """The columns of pledges without ``funded_from`` only (money counted where it enters)."""
    passed_through: dict[str, Decimal]
    """The columns of regrants only (money passed on from pooled funds)."""
    other_flows: dict[str, dict[str, Decimal]]
    """Per flow that is not a donation, its columns; such pledges count nowhere else in the row."""
    pledges: int
    projects: int
    organizations: int
    counties: int
    person_times: int
    households: int
    persons: int
    unvalued_gifts: int = 0
    """How many of ``pledges`` are unvalued gifts."""


# -- input validation ---------------------------------------------------------------------------


class _Invalid(Exception):
    pass


def _fail(why: str) -> NoReturn:
    raise _Invalid(why)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _text(value: Any, *, maximum: int, strip: bool = True, newline: bool = False) -> str:
    if not isinstance(value, str):
        _fail(f"{value!r} is not text")
    text = value.strip() if strip else value
    if not 1 <= len(text) <= maximum:
        _fail(f"{value!r} has the wrong length")
    if (_CONTROL_BUT_NEWLINE if newline else _CONTROL).search(text):
        _fail(f"{value!r} holds a control character")
    return text


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        _fail(f"{value!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        _fail(f"{value!r} is not a calendar date")


def _credit_code(value: Any) -> str:
    if not isinstance(value, str):
        _fail(f"{value!r} is not a credit code")
    try:
        return str(uscc.validate(value.strip()))
    except StdnumError:
        _fail(f"{value!r} fails the check digit")


def _choice(options: frozenset[str]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            _fail(f"{value!r} is not one of {sorted(options)}")
        return str(value)

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        _fail(f"{value!r} is not a boolean")
    return bool(value)


def _region(value: Any) -> str:
    if not isinstance(value, str):
        _fail(f"{value!r} is not a region code")
    code = value.strip()
    if not re.fullmatch(r"\d{6}", code) or code[:2] not in _PROVINCES:
        _fail(f"{value!r} is not a GB/T 2260 code")
    return code


def _exact(raw: Any, scale: int) -> Decimal:
    """An exact positive number below 10^15 with at most ``scale`` places (the ledger's rule)."""
    if isinstance(raw, (bool, float)):
        _fail(f"{raw!r} is not exact")
    if isinstance(raw, str):
        if not re.fullmatch(r"[+-]?\d+(\.\d+)?", raw.strip()):
            _fail(f"{raw!r} is not a plain decimal")
        value = Decimal(raw.strip())
    elif isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    else:
        _fail(f"{raw!r} is not an amount")
    if not value.is_finite() or value <= 0 or value >= Decimal(10) ** 15:
        _fail(f"{raw!r} is out of range")
    if value != value.quantize(Decimal(1).scaleb(-scale), rounding="ROUND_DOWN"):
        _fail(f"{raw!r} has more than {scale} places")
    return value


def _currency(raw: Any) -> str:
    if not isinstance(raw, str) or raw.strip().upper() not in CURRENCY_SCALES:
        _fail(f"{raw!r} is not a currency the model knows")
    return raw.strip().upper()


def _money(raw: Any) -> tuple[Decimal, str]:
    if isinstance(raw, Mapping):
        if set(raw) - {"value", "currency"} or "value" not in raw:
            _fail(f"{raw!r} is not a money mapping")
        value, currency = raw["value"], raw.get("currency", "CNY")
    else:
        value, currency = raw, "CNY"
    amount = _exact(value, 2).quantize(Decimal("0.01"))
    if not isinstance(currency, str) or currency.strip().upper() not in CURRENCY_SCALES:
        _fail(f"{currency!r} is not a currency the model knows")
    code = currency.strip().upper()
    _exact(amount, CURRENCY_SCALES[code])
    return amount, code


def _count(maximum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            _fail(f"{value!r} is not a count 0..{maximum}")
        return int(value)

    return check


def _items(value: Any) -> tuple[tuple[str, Decimal, str], ...]:
    if not isinstance(value, (list, tuple)):
        _fail(f"{value!r} is not a list of items")
    items = []
    for item in value:
        if not isinstance(item, Mapping) or set(item) != {"description", "quantity", "unit"}:
            _fail(f"{item!r} is not an item")
        quantity = _exact(item["quantity"], 6).normalize()
        items.append(
            (
                _text(item["description"], maximum=500, strip=False),
                quantity,
                _text(item["unit"], maximum=50, strip=False),
            )
        )
    return tuple(items)


_CLEARABLE = frozenset({"credit_code", "charity_since", "public_fundraising_from", "public_fundraising_until"})
"""Profile fields an update may clear: the optional ones that have no default."""


def _names(value: Any, options: frozenset[str]) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v in options for v in value):
        _fail(f"{value!r} is not a list of {sorted(options)}")
    return tuple(sorted(set(value)))


def _campaigns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        _fail(f"{value!r} is not a list of campaigns")
    return tuple(_text(v, maximum=100, strip=False) for v in value)


def _reference(value: Any) -> str:
    if not isinstance(value, (str, UUID)):
        _fail(f"{value!r} is not a reference")
    try:
        return str(UUID(str(value)))
    except ValueError:
        _fail(f"{value!r} is not a UUID")


def _url(value: Any) -> str:
    if (
        not isinstance(value, str)
        or len(value) > 2000
        or not re.fullmatch(r"https?://\S+", value)
        or _CONTROL.search(value)
    ):
        _fail(f"{value!r} is not a URL")
    return str(value)


def _sha256(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        _fail(f"{value!r} is not a SHA-256")
    return str(value)


def _evidence(value: Any) -> Any:
    if not isinstance(value, Mapping) or set(value) - {"reference", "url", "sha256"}:
        _fail(f"{value!r} is not evidence")
    checked: dict[str, Any] = {}
    for name, raw in value.items():
        if raw is None:
            checked[name] = None
        elif name == "reference":
            checked[name] = _text(raw, maximum=200, strip=False)
        else:
            checked[name] = _url(raw) if name == "url" else _sha256(raw)
    return tuple(sorted(checked.items()))


Check = Callable[[Any], Any]
_ENVELOPE: dict[str, tuple[bool, Check]] = {
    "recorded_by": (False, lambda v: _text(v, maximum=200, strip=False)),
    "effective_on": (True, _date),
    "source": (False, _evidence),
}

_REASON: Check = lambda v: _text(v, maximum=2000, newline=True)  # noqa: E731
_NAME: Check = lambda v: _text(v, maximum=500)  # noqa: E731

_PROFILE: dict[str, Check] = {
    "name": _NAME,
    "kind": _choice(_ORGANIZATION_KINDS),
    "level": _choice(_LEVELS),
    "home_region": _region,
    "credit_code": _credit_code,
    "charity": _bool,
    "charity_since": _date,
    "public_fundraising": _bool,
    "public_fundraising_from": _date,
    "public_fundraising_until": _date,
}

SCHEMAS: dict[str, dict[str, tuple[bool, Check]]] = {
    "register_organization": {
        "name": (True, _NAME),
        "kind": (True, _PROFILE["kind"]),
        "level": (True, _PROFILE["level"]),
        "home_region": (True, _region),
        "credit_code": (False, _PROFILE["credit_code"]),
        "charity": (False, _bool),
        "charity_since": (False, _date),
        "public_fundraising": (False, _bool),
        "public_fundraising_from": (False, _date),
        "public_fundraising_until": (False, _date),
    },
    "update_organization": {"organization_id": (True, _reference)}
    | {name: (False, check) for name, check in _PROFILE.items()}
    | {"clear": (False, lambda v: _names(v, _CLEARABLE))},
    "deregister_organization": {"organization_id": (True, _reference), "reason": (True, _REASON)},
    "register_project": {
        "title": (True, _NAME),
        "implementing_organization_id": (True, _reference),
        "region": (False, _region),
        "pooled_fund": (False, _bool),
        "category": (True, _choice(_CATEGORIES)),
        "field": (True, _choice(_FIELDS)),
        "campaigns": (False, _campaigns),
        "planned_start": (True, _date),
        "planned_end": (True, _date),
        "budget": (False, _money),
    },
    "start_project": {"project_id": (True, _reference)},
    "report_beneficiaries": {
        "project_id": (True, _reference),
        "person_times": (True, _count(10**10)),
        "households": (False, _count(10**9)),
        "persons": (False, _count(10**10)),
    },
    "record_disclosure": {
        "project_id": (True, _reference),
        "kind": (True, _choice(_DISCLOSURE_KINDS)),
        "period_start": (True, _date),
        "period_end": (True, _date),
        "channel": (True, lambda v: _text(v, maximum=200, strip=False)),
        "url": (False, _url),
        "content_sha256": (False, _sha256),
    },
    "complete_project": {"project_id": (True, _reference)},
    "cancel_project": {"project_id": (True, _reference), "reason": (True, _REASON)},
    "make_pledge": {
        "donor_id": (True, _reference),
        "project_id": (True, _reference),
        "amount": (False, _money),
        "currency": (False, _currency),
        "items": (False, _items),
        "stage": (False, _choice(_STAGES)),
        "channel_id": (False, _reference),
        "funded_from": (False, _reference),
        "funded_from_pool": (False, _reference),
        "anonymous": (False, _bool),
        "flow": (False, _choice(_FLOWS)),
    },
    "sign_pledge": {"pledge_id": (True, _reference)},
    "amend_pledge": {"pledge_id": (True, _reference), "amount": (True, _money), "reason": (True, _REASON)},
    "withdraw_pledge": {"pledge_id": (True, _reference), "reason": (True, _REASON)},
    "disburse": {
        "pledge_id": (True, _reference),
        "amount": (False, _money),
        "items": (False, _items),
        "method": (False, _choice(_METHODS)),
    },
    "confirm_disbursement": {"disbursement_id": (True, _reference)},
    "reverse_disbursement": {"disbursement_id": (True, _reference), "reason": (True, _REASON)},
    "return_disbursement": {"disbursement_id": (True, _reference), "amount": (True, _money), "reason": (True, _REASON)},
}
"""Each command's fields: (required, check). A check returns the normalised value or fails."""

_DEFAULTS: dict[str, dict[str, Any]] = {
    "register_project": {"pooled_fund": False, "campaigns": ()},
    "make_pledge": {"items": (), "stage": "signed", "anonymous": False, "flow": "donation"},
    "disburse": {"items": (), "method": "bank_transfer"},
    "register_organization": {"charity": False, "public_fundraising": False},
    "update_organization": {"clear": ()},
}

_CREATES = {
    "register_organization": "organization",
    "register_project": "project",
    "make_pledge": "pledge",
    "disburse": "disbursement",
}


def resolve(value: str, kind: str) -> UUID:
    """The id a reference names: a UUID as it is, otherwise the id its command id gave ``kind``."""
    try:
        return UUID(value)
    except ValueError:
        return derive_id(kind, value.strip())


def _validate(name: str, record: Mapping[str, Any], default_recorded_by: str | None) -> dict[str, Any]:
    """The command's fields, checked and normalised; raises ``_Invalid`` for bad input."""
    if name not in SCHEMAS or record.get("command") != name:
        _fail(f"unknown command {record.get('command')!r}")
    command_id = record.get("command_id")
    if command_id is not None and (
        not isinstance(command_id, str)
        or not 1 <= len(command_id) <= 200
        or _CONTROL.search(command_id)
        or command_id != command_id.strip()
    ):
        _fail(f"command_id {command_id!r}")
    schema = SCHEMAS[name] | _ENVELOPE
    fields = {k: v for k, v in record.items() if k not in ("command", "command_id")}
    unknown = set(fields) - set(schema)
    if unknown:
        _fail(f"unknown fields {sorted(unknown)}")
    checked: dict[str, Any] = dict(_DEFAULTS.get(name, {}))
    for key, (required, check) in schema.items():
        raw = fields.get(key)
        if key in REFERENCE_KINDS and isinstance(raw, str) and raw.strip():
            raw = str(resolve(raw, REFERENCE_KINDS[key]))
        if raw is None:
            if key in record and key in _DEFAULTS.get(name, {}):
                _fail(f"{key} may not be null")
            if required:
                _fail(f"{key} is required")
            checked.setdefault(key, None)
            continue
        checked[key] = check(raw)
    if checked["recorded_by"] is None:
        if default_recorded_by is None:
            _fail("recorded_by is required")
        checked["recorded_by"] = default_recorded_by
    _check_consistency(name, checked)
    return checked


def _check_consistency(name: str, checked: dict[str, Any]) -> None:
    """Rules between fields of one command (checked when the command is built)."""
    if name == "register_organization":
        _check_profile(checked)
    elif name == "update_organization" and any(checked.get(field) is not None for field in checked["clear"]):
        _fail("a field is both given and cleared")
    elif name == "register_project":
        if checked["planned_end"] < checked["planned_start"]:
            _fail("planned_end before planned_start")
        if checked["region"] is None and not checked["pooled_fund"]:
            _fail("a project needs a region unless it is a pooled fund")
    elif name == "record_disclosure" and checked["period_end"] < checked["period_start"]:
        _fail("period_end before period_start")
    elif name == "make_pledge" and checked["funded_from"] is not None and checked["funded_from_pool"] is not None:
        _fail("a regrant names a pledge or a pool, not both")
    elif (
        name == "make_pledge"
        and (checked["funded_from"] or checked["funded_from_pool"])
        and checked["flow"] != "donation"
    ):
        _fail("a regrant is a donation")
    if name in ("make_pledge", "disburse") and checked["amount"] is None and not checked["items"]:
        _fail("an amount is required unless goods (items) are given")
    if name == "make_pledge" and checked["currency"] is not None:
        if checked["amount"] is not None and checked["amount"][1] != checked["currency"]:
            _fail("currency differs from the amount's")
        if checked["amount"] is None and checked["currency"] == "CNY":
            checked["currency"] = None  # the default, written or not: the same command


def _check_profile(profile: Mapping[str, Any]) -> None:
    if profile.get("public_fundraising") and not profile.get("charity"):
        _fail("public fundraising needs charity status")
    start, end = profile.get("public_fundraising_from"), profile.get("public_fundraising_until")
    if start is not None and end is not None and end < start:
        _fail("public_fundraising_until before public_fundraising_from")


def _payload(name: str, checked: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two commands with one command id the same command."""
    return (name, tuple(sorted((k, repr(v)) for k, v in checked.items())))


# -- the model ----------------------------------------------------------------------------------


class LedgerModel:
    """Predicts the ledger's decision on each command record and the totals that follow.

    ``run(record)`` predicts and, when the command is accepted, applies it. ``predict(record)``
    predicts without changing the model. Totals come from :meth:`pledge_columns` and
    :meth:`totals`; both take an optional ``effective_on`` date (only what happened on or before
    it counts, as with the ledger's as-of-date reports).
    """

    def __init__(self, *, default_recorded_by: str | None = None, allow_disbursing_intended: bool = False) -> None:
        self.default_recorded_by = default_recorded_by
        self.allow_disbursing_intended = allow_disbursing_intended
        self.organizations: dict[UUID, ModelOrganization] = {}
        self.projects: dict[UUID, ModelProject] = {}
        self.pledges: dict[UUID, ModelPledge] = {}
        self.disbursements: dict[UUID, ModelDisbursement] = {}
        self.commands: dict[str, tuple[Any, ...]] = {}
        """Payload of each stored command id (for idempotency)."""
        self.entries: list[Entry] = []
        self.created: dict[str, list[str]] = defaultdict(list)
        """Command ids of the accepted commands that created each kind of object."""
        self.records: list[dict[str, Any]] = []
        """Every record the model was given, in order (accepted or not)."""
        self.accepted: list[dict[str, Any]] = []
        """The records the model accepted, in order."""
        self.dates: list[date] = []
        """Effective dates of the accepted commands, in order."""

    # -- deciding ---------------------------------------------------------------------------

    def predict(self, record: Mapping[str, Any]) -> Outcome:
        """The outcome of ``record`` without changing the model."""
        return copy.deepcopy(self).run(record)

    def run(self, record: Mapping[str, Any]) -> Outcome:
        """Predict the outcome of ``record`` and apply it when it is accepted."""
        self.records.append(dict(record))
        given_name, given_id = record.get("command"), record.get("command_id")
        name = given_name if isinstance(given_name, str) else repr(given_name)
        cid = given_id if isinstance(given_id, str) else None
        try:
            checked = _validate(name, record, self.default_recorded_by)
        except _Invalid as invalid:
            return Outcome(name, cid, "refused", errors.InvalidInput, str(invalid))
        payload = _payload(name, checked)
        if cid is not None and cid in self.commands:
            if self.commands[cid] != payload:
                why = f"command id {cid!r} was used for another command"
                return Outcome(name, cid, "refused", errors.IdempotencyConflict, why)
            return Outcome(name, cid, "repeated")
        effective_on: date = checked["effective_on"]
        try:
            aggregate_id = self._decide(name, cid or f"generated-{len(self.records)}", checked, effective_on)
        except Refused as refused:
            return Outcome(name, cid, "refused", refused.error, refused.why)
        if cid is not None:
            self.commands[cid] = payload
            if name in _CREATES:
                self.created[_CREATES[name]].append(cid)
        self.accepted.append(dict(record))
        self.dates.append(effective_on)
        return Outcome(name, cid, "accepted", aggregate_id=aggregate_id)

    def _decide(self, name: str, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        """Check the rules in the ledger's order; apply the command; return the object's id."""
        handler: Callable[[str, dict[str, Any], date], UUID] = getattr(self, f"_{name}")
        return handler(command_id, fields, day)

    # -- lookups (each raises the ledger's error) --------------------------------------------

    def _organization(self, ref: str) -> ModelOrganization:
        found = self.organizations.get(UUID(ref))
        if found is None:
            raise Refused(errors.NotFound, f"organization {ref}")
        return found

    def _active(self, ref: str) -> ModelOrganization:
        organization = self._organization(ref)
        if organization.deregistered:
            raise Refused(errors.OrganizationDeregistered, f"organization {ref} is deregistered")
        return organization

    def _project(self, ref: str | UUID) -> ModelProject:
        found = self.projects.get(UUID(str(ref)))
        if found is None:
            raise Refused(errors.NotFound, f"project {ref}")
        return found

    def _open(self, ref: str | UUID) -> ModelProject:
        project = self._project(ref)
        if project.status in ("completed", "cancelled"):
            raise Refused(errors.ProjectClosed, f"project {ref} is {project.status}")
        return project

    def _pledge(self, ref: str | UUID) -> ModelPledge:
        found = self.pledges.get(UUID(str(ref)))
        if found is None:
            raise Refused(errors.NotFound, f"pledge {ref}")
        return found

    def _disbursement(self, ref: str) -> ModelDisbursement:
        found = self.disbursements.get(UUID(ref))
        if found is None:
            raise Refused(errors.NotFound, f"disbursement {ref}")
        return found

    @staticmethod
    def _not_before(day: date, earliest: date | None, what: str) -> None:
        """A change takes effect no earlier than what it changes."""
        if earliest is not None and day < earliest:
            raise Refused(errors.EffectiveDateOutOfOrder, f"{day} is before {what} on {earliest}")

    @staticmethod
    def _not_withdrawn(pledge: ModelPledge) -> None:
        if pledge.withdrawn:
            raise Refused(errors.PledgeWithdrawn, f"pledge {pledge.id} was withdrawn")

    @staticmethod
    def _same_currency(pledge: ModelPledge, currency: str) -> None:
        if currency != pledge.currency:
            raise Refused(errors.CurrencyMismatch, f"{currency} on a {pledge.currency} pledge")

    def _entry(self, pledge: ModelPledge, column: str, amount: Decimal, day: date, year: int | None = None) -> None:
        self.entries.append(Entry(pledge.id, column, amount, day, pledge.made_on.year if year is None else year))

    # -- organizations ----------------------------------------------------------------------

    def _register_organization(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        organization_id = derive_id("organization", command_id)
        profile = {k: fields[k] for k in _PROFILE if fields.get(k) is not None}
        self._code_unused(profile.get("credit_code"), organization_id)
        profile.setdefault("charity", False)
        profile.setdefault("public_fundraising", False)
        self.organizations[organization_id] = ModelOrganization(organization_id, profile)
        return organization_id

    def _update_organization(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        organization = self._organization(fields["organization_id"])
        merged = organization.profile | {k: fields[k] for k in _PROFILE if fields.get(k) is not None}
        merged = {k: v for k, v in merged.items() if k not in fields["clear"]}
        try:
            _check_profile(merged)
        except _Invalid as invalid:
            raise Refused(errors.InvalidInput, str(invalid)) from None
        if organization.deregistered:
            raise Refused(errors.OrganizationDeregistered, f"organization {organization.id} is deregistered")
        if merged.get("credit_code") != organization.profile.get("credit_code"):
            self._code_unused(merged.get("credit_code"), organization.id)
        organization.profile = merged
        return organization.id

    def _code_unused(self, code: str | None, organization_id: UUID) -> None:
        """A credit code belongs to one organization for life: no other may hold it, deregistered or not."""
        others = [o.id for o in self.organizations.values() if o.id != organization_id]
        if code is not None and any(self.organizations[o].profile.get("credit_code") == code for o in others):
            raise Refused(errors.DuplicateCreditCode, f"credit code {code} is another organization's")

    def _deregister_organization(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        organization = self._organization(fields["organization_id"])
        if organization.deregistered:
            raise Refused(errors.InvalidTransition, f"organization {organization.id} is already deregistered")
        organization.deregistered = True
        return organization.id

    # -- projects ---------------------------------------------------------------------------

    def _register_project(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        implementer = self._active(fields["implementing_organization_id"])
        project_id = derive_id("project", command_id)
        self.projects[project_id] = ModelProject(
            id=project_id,
            implementer=implementer.id,
            region=fields["region"],
            pooled_fund=fields["pooled_fund"],
            category=fields["category"],
            field=fields["field"],
            campaigns=fields["campaigns"],
        )
        return project_id

    def _start_project(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        project = self._open(fields["project_id"])
        if project.status == "started":
            raise Refused(errors.InvalidTransition, f"project {project.id} was already started")
        project.status = "started"
        project.started_on = day
        return project.id

    def _report_beneficiaries(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        project = self._project(fields["project_id"])
        if project.status == "cancelled":
            raise Refused(errors.ProjectClosed, f"project {project.id} is cancelled")
        report = (day, len(self.records), fields["person_times"], fields["households"], fields["persons"])
        project.reports.append(report)
        return project.id

    def _record_disclosure(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        return self._project(fields["project_id"]).id

    def _complete_project(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        project = self._open(fields["project_id"])
        self._not_before(day, project.started_on, "the project started")
        project.status = "completed"
        return project.id

    def _cancel_project(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        project = self._open(fields["project_id"])
        self._not_before(day, project.started_on, "the project started")
        project.status = "cancelled"
        return project.id

    # -- pledges ----------------------------------------------------------------------------

    def _make_pledge(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        unvalued = fields["amount"] is None
        amount, currency = (ZERO, fields["currency"] or "CNY") if unvalued else fields["amount"]
        donor = self._active(fields["donor_id"])
        project = self._open(fields["project_id"])
        if project.pooled_fund and fields["flow"] != "donation":
            raise Refused(errors.PooledFundTakesDonations, f"a pooled fund takes no {fields['flow']}")
        channel = self._active(fields["channel_id"]).id if fields["channel_id"] is not None else None
        regrant = fields["funded_from"] is not None or fields["funded_from_pool"] is not None
        if unvalued and (regrant or project.pooled_fund):
            raise Refused(errors.UnvaluedGiftMismatch, "pools and regrants pass on money, never unvalued goods")
        pledge_id = derive_id("pledge", command_id)
        source = None
        if fields["funded_from"] is not None:
            source = self._regrant_source(fields["funded_from"], project.id)
            self._holder_gives(self.projects[source.project], donor.id)
            self._same_currency(source, currency)
            self._allocate(source, pledge_id, amount, day)
        draws: list[tuple[ModelPledge, Decimal]] = []
        if fields["funded_from_pool"] is not None:
            draws = self._pool_draws(fields["funded_from_pool"], project.id, donor.id, amount, currency, day)
        pledge = ModelPledge(
            id=pledge_id,
            donor=donor.id,
            project=project.id,
            currency=currency,
            amount=amount,
            stage=fields["stage"],
            made_on=day,
            in_kind=bool(fields["items"]),
            channel=channel,
            funded_from=source.id if source else None,
            anonymous=fields["anonymous"],
            flow=fields["flow"],
            unvalued=unvalued,
            stage_on=day,
        )
        self.pledges[pledge_id] = pledge
        if source is not None:
            self._draw(source, pledge_id, amount, day)
        for drawn, take in draws:
            self._draw(drawn, pledge_id, take, day)
            pledge.drawn_from.append(drawn.id)
        if draws:
            pledge.funded_from = draws[0][0].id  # a regrant: passed-through money, as the ledger files it
        self._entry(pledge, pledge.stage, amount, day)
        return pledge_id

    @staticmethod
    def _draw(source: ModelPledge, regrant: UUID, amount: Decimal, day: date) -> None:
        """Let ``regrant`` draw ``amount`` from ``source`` from ``day`` on."""
        source.draws.append((day, amount - source.allocations.get(regrant, ZERO)))
        source.allocations[regrant] = amount

    def _holder_gives(self, pool: ModelProject, donor: UUID) -> None:
        if donor != pool.implementer:
            why = f"a regrant from pool {pool.id} is made by its implementer {pool.implementer}, not {donor}"
            raise Refused(errors.RegrantDonorMismatch, why)

    def _arrived_on(self, pledge: ModelPledge) -> date | None:
        """The first value date of a disbursement against ``pledge`` that was not reversed."""
        dates = [d.value_date for d in self.disbursements.values() if d.pledge == pledge.id and not d.reversed]
        return min(dates) if dates else None

    def _free(self, source: ModelPledge, day: date) -> Decimal:
        """The most a regrant may still draw from ``source`` from ``day`` on."""
        later = {on for on, _ in source.changes if on > day} | {on for on, _ in source.draws if on > day}
        lowest = min(source.net_as_of(on) - self._regranted_as_of(source, on) for on in {day} | later)
        return max(lowest, ZERO)

    def _pool_draws(
        self, ref: str, target: UUID, donor: UUID, amount: Decimal, currency: str, day: date
    ) -> list[tuple[ModelPledge, Decimal]]:
        """Which pledges into the pool a regrant draws on, oldest money (then oldest pledge) first."""
        pool = self._project(ref)
        if not pool.pooled_fund:
            raise Refused(errors.NotAPooledFund, f"project {ref} is not a pooled fund")
        if pool.id == target:
            raise Refused(errors.NotAPooledFund, "a regrant goes to another project than its pool")
        self._holder_gives(pool, donor)
        arrived = {p.id: self._arrived_on(p) for p in self.pledges.values() if p.project == pool.id}
        candidates = [
            p
            for p in self.pledges.values()
            if p.project == pool.id and not p.withdrawn and p.currency == currency and arrived[p.id] is not None
        ]
        candidates.sort(key=lambda p: arrived[p.id] or day)
        draws, need = [], amount
        for candidate in candidates:
            take = min(need, self._free(candidate, day))
            if take > 0:
                draws.append((candidate, take))
                need -= take
        if need > 0:
            raise Refused(errors.RegrantExceedsPool, f"pool {pool.id} holds too little free for {amount}")
        return draws

    def _redraw(self, pledge: ModelPledge, amount: Decimal, day: date) -> list[tuple[ModelPledge, Decimal]]:
        """What each source of a regrant draws once it is ``amount`` (checked; only changes for a pool's)."""
        if pledge.funded_from is None:
            return []
        if not pledge.drawn_from:
            source = self.pledges[pledge.funded_from]
            self._allocate(source, pledge.id, amount, day)
            return [(source, amount)]
        sources = [self.pledges[source_id] for source_id in pledge.drawn_from]
        targets = [source.allocations.get(pledge.id, ZERO) for source in sources]
        total = sum(targets, ZERO)
        if amount <= total:  # newest draws given back first
            excess = total - amount
            for index in reversed(range(len(targets))):
                back = min(excess, targets[index])
                targets[index] -= back
                excess -= back
        else:  # more from the same pledges, oldest first
            more = amount - total
            for index, source in enumerate(sources):
                take = min(more, self._free(source, day))
                targets[index] += take
                more -= take
            if more > 0:
                raise Refused(errors.RegrantExceedsPool, f"the pledges regrant {pledge.id} draws on hold too little")
        for source, target in zip(sources, targets, strict=True):
            self._allocate(source, pledge.id, target, day)
        return [(s, t) for s, t in zip(sources, targets, strict=True) if s.allocations.get(pledge.id, ZERO) != t]

    def _regrant_source(self, ref: str, target: UUID) -> ModelPledge:
        source = self._pledge(ref)
        self._not_withdrawn(source)
        pool = self._project(source.project)
        if not pool.pooled_fund:
            raise Refused(errors.NotAPooledFund, f"pledge {ref} is not to a pooled fund")
        if pool.id == target:
            raise Refused(errors.NotAPooledFund, "a regrant goes to another project than its pool")
        return source

    def _allocate(self, source: ModelPledge, regrant: UUID, amount: Decimal, day: date) -> None:
        """Refuse unless the source's money in the pool covers all its regrants with this one, today
        and, when the regrant draws more than before, as of every date from ``day`` on."""
        others = sum((a for p, a in source.allocations.items() if p != regrant), ZERO)
        if others + amount > source.net_disbursed:
            raise Refused(errors.RegrantExceedsPool, f"regrants of {source.id} would exceed its pool money")
        more = amount - source.allocations.get(regrant, ZERO)
        if more > 0:
            self._covered_as_of(source, day, extra_draw=more)

    @staticmethod
    def _regranted_as_of(source: ModelPledge, on: date) -> Decimal:
        """What regrants draw from ``source`` as of ``on``."""
        return sum((change for day, change in source.draws if day <= on), ZERO)

    def _covered_as_of(
        self, source: ModelPledge, day: date, *, extra_draw: Decimal = ZERO, less: Decimal = ZERO
    ) -> None:
        """Refuse unless, as of every date from ``day`` on, the regrants of ``source`` (with
        ``extra_draw`` more from ``day``) pledge no more than its net disbursed (``less`` less from ``day``)."""
        later = {on for on, _ in source.draws if on > day}
        later |= {on for on, _ in source.changes if on > day}
        for on in sorted({day} | later):
            drawn = self._regranted_as_of(source, on) + extra_draw
            held = source.net_as_of(on) - less
            if drawn > held:
                why = f"as of {on} regrants of {source.id} would draw {drawn}, its pool would hold {held}"
                raise Refused(errors.RegrantExceedsPool, why)

    def _sign_pledge(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        pledge = self._pledge(fields["pledge_id"])
        self._active(str(pledge.donor))
        self._open(pledge.project)
        self._not_withdrawn(pledge)
        if pledge.stage == "signed":
            raise Refused(errors.PledgeAlreadySigned, f"pledge {pledge.id} is signed")
        self._not_before(day, pledge.stage_on, "its last change")
        self._entry(pledge, "intended", -pledge.amount, day)
        self._entry(pledge, "signed", pledge.amount, day)
        pledge.stage, pledge.stage_on = "signed", day
        return pledge.id

    def _amend_pledge(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        amount, currency = fields["amount"]
        pledge = self._pledge(fields["pledge_id"])
        if pledge.unvalued:
            raise Refused(errors.UnvaluedGiftMismatch, f"pledge {pledge.id} is unvalued: it has no amount to amend")
        if amount > pledge.amount:  # an increase is a new commitment
            self._active(str(pledge.donor))
            self._open(pledge.project)
        self._not_withdrawn(pledge)
        self._same_currency(pledge, currency)
        if amount < pledge.amount:  # a decrease must not predate the payments it relies on
            self._not_before(day, _latest(pledge), "its last change or payment")
        else:
            self._not_before(day, pledge.stage_on, "its last change")
        if amount < pledge.net_disbursed:
            raise Refused(errors.PledgeBelowDisbursed, f"{amount} is below {pledge.net_disbursed} disbursed")
        for source, target in self._redraw(pledge, amount, day):
            self._draw(source, pledge.id, target, day)
        if amount != pledge.amount:
            self._entry(pledge, pledge.stage, amount - pledge.amount, day)
        pledge.amount, pledge.stage_on = amount, day
        return pledge.id

    def _withdraw_pledge(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        pledge = self._pledge(fields["pledge_id"])
        self._not_withdrawn(pledge)
        self._not_before(day, _latest(pledge), "its last change or payment")
        if pledge.deliveries:
            raise Refused(errors.PledgeHasDisbursements, f"unvalued gift {pledge.id} has deliveries standing")
        if pledge.net_disbursed > 0:
            raise Refused(errors.PledgeHasDisbursements, f"pledge {pledge.id} has money disbursed")
        for source, target in self._redraw(pledge, ZERO, day):
            self._draw(source, pledge.id, target, day)
        self._entry(pledge, pledge.stage, -pledge.amount, day)
        self._entry(pledge, "withdrawn", pledge.amount, day)
        pledge.withdrawn, pledge.withdrawn_on, pledge.stage_on = True, day, day
        return pledge.id

    # -- disbursements ----------------------------------------------------------------------

    def _disburse(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        pledge = self._pledge(fields["pledge_id"])
        unvalued = fields["amount"] is None  # goods with no amount: in the pledge's currency
        amount, currency = (ZERO, pledge.currency) if unvalued else fields["amount"]
        if self._project(pledge.project).status == "cancelled":
            raise Refused(errors.ProjectClosed, f"project {pledge.project} is cancelled")
        self._not_withdrawn(pledge)
        self._same_currency(pledge, currency)
        if unvalued != pledge.unvalued:
            raise Refused(errors.UnvaluedGiftMismatch, "an unvalued gift takes only goods with no amount, and only it")
        self._not_before(day, pledge.stage_on, "its last change")
        if pledge.stage == "intended" and not self.allow_disbursing_intended:
            raise Refused(errors.PledgeNotSigned, f"pledge {pledge.id} is only intended")
        if amount > pledge.outstanding:
            raise Refused(errors.OverDisbursement, f"{amount} is more than {pledge.outstanding} outstanding")
        later = {on for on, _ in pledge.changes if on > day}
        if any(pledge.net_as_of(on) + amount > pledge.amount for on in {day, *later}):
            raise Refused(errors.OverDisbursement, f"{amount} dated {day} would exceed the pledge as of a later date")
        disbursement_id = derive_id("disbursement", command_id)
        self.disbursements[disbursement_id] = ModelDisbursement(disbursement_id, pledge.id, amount, day)
        if unvalued:
            pledge.deliveries.add(disbursement_id)
        pledge.disbursed += amount
        pledge.changes.append((day, amount))
        pledge.money_on = max(pledge.money_on or day, day)
        self._entry(pledge, "disbursed", amount, day, day.year)
        return disbursement_id

    def _pool_covers(self, pledge: ModelPledge, amount: Decimal, day: date) -> None:
        """Refuse unless ``amount`` less from ``day`` on leaves the pool covering its regrants."""
        if pledge.net_disbursed - amount < pledge.regranted:
            raise Refused(errors.RegrantExceedsPool, f"pledge {pledge.id} would hold less than it regranted")
        self._covered_as_of(pledge, day, less=amount)

    def _confirm_disbursement(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        disbursement = self._disbursement(fields["disbursement_id"])
        if disbursement.reversed:
            raise Refused(errors.DisbursementAlreadyReversed, f"disbursement {disbursement.id} was reversed")
        self._not_before(day, disbursement.value_date, "the value date")
        if disbursement.confirmed:
            raise Refused(errors.DisbursementAlreadyConfirmed, f"disbursement {disbursement.id} was confirmed")
        disbursement.confirmed, disbursement.confirmed_on = True, day
        pledge = self.pledges[disbursement.pledge]
        self._entry(pledge, "confirmed", disbursement.amount, day, disbursement.value_date.year)
        return disbursement.id

    def _reverse_disbursement(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        disbursement = self._disbursement(fields["disbursement_id"])
        pledge = self.pledges[disbursement.pledge]
        if disbursement.reversed:
            raise Refused(errors.DisbursementAlreadyReversed, f"disbursement {disbursement.id} was reversed")
        self._not_before(day, disbursement.value_date, "the value date")
        if disbursement.returned > 0:
            raise Refused(errors.DisbursementHasReturns, f"disbursement {disbursement.id} has returns")
        self._pool_covers(pledge, disbursement.amount, disbursement.value_date)
        disbursement.reversed = True
        pledge.deliveries.discard(disbursement.id)
        pledge.reversed += disbursement.amount
        pledge.changes.append((disbursement.value_date, -disbursement.amount))
        pledge.money_on = max(pledge.money_on or day, day)
        # A reversal says the disbursement never happened: it counts from the disbursement's own
        # value date (and takes back a confirmation from the confirmation's date), so that no
        # as-of date between them shows money paid and then unpaid.
        year = disbursement.value_date.year
        self._entry(pledge, "reversed", disbursement.amount, disbursement.value_date, year)
        if disbursement.confirmed:
            confirmed_on = disbursement.confirmed_on or disbursement.value_date
            self._entry(pledge, "confirmed", -disbursement.amount, confirmed_on, year)
        return disbursement.id

    def _return_disbursement(self, command_id: str, fields: dict[str, Any], day: date) -> UUID:
        amount, currency = fields["amount"]
        disbursement = self._disbursement(fields["disbursement_id"])
        pledge = self.pledges[disbursement.pledge]
        if pledge.unvalued:
            raise Refused(errors.UnvaluedGiftMismatch, f"pledge {pledge.id} is unvalued: no money to give back")
        self._same_currency(pledge, currency)
        if disbursement.reversed:
            raise Refused(errors.DisbursementAlreadyReversed, f"disbursement {disbursement.id} was reversed")
        self._not_before(day, disbursement.value_date, "the value date")
        if amount > disbursement.amount - disbursement.returned:
            raise Refused(errors.ReturnExceedsDisbursement, f"{amount} is more than remains of {disbursement.id}")
        self._pool_covers(pledge, amount, day)
        disbursement.returned += amount
        pledge.returned += amount
        pledge.changes.append((day, -amount))
        pledge.money_on = max(pledge.money_on or day, day)
        self._entry(pledge, "returned", amount, day, disbursement.value_date.year)
        return disbursement.id

    # -- totals -----------------------------------------------------------------------------

    def _entries(self, effective_on: date | None) -> Iterable[Entry]:
        return (e for e in self.entries if effective_on is None or e.effective_on <= effective_on)

    def pledge_columns(self, effective_on: date | None = None) -> dict[UUID, dict[str, Decimal]]:
        """Every column of every pledge that has an entry (on or before ``effective_on``)."""
        base: dict[UUID, dict[str, Decimal]] = {}
        for entry in self._entries(effective_on):
            line = base.setdefault(entry.pledge, dict.fromkeys(BASE_COLUMNS, ZERO))
            line[entry.column] += entry.amount
        return {pledge: _with_derived(line) for pledge, line in base.items()}

    def grand_totals(self, effective_on: date | None = None) -> dict[str, dict[str, Decimal]]:
        """Every column summed over all donations, per currency (other flows are never added to them)."""
        grand: dict[str, dict[str, Decimal]] = {}
        for pledge_id, columns in self.pledge_columns(effective_on).items():
            if self.pledges[pledge_id].flow != "donation":
                continue
            line = grand.setdefault(self.pledges[pledge_id].currency, dict.fromkeys(COLUMNS, ZERO))
            for column, amount in columns.items():
                line[column] += amount
        return grand

    def totals(
        self, group_by: Sequence[str] = (), effective_on: date | None = None
    ) -> dict[tuple[tuple[tuple[str, str], ...], str], ModelRow]:
        """Rows keyed by ((dimension, value), ...) and currency, as the ledger's totals report."""
        for name in group_by:
            if name not in DIMENSIONS:
                msg = f"the model does not know the dimension {name!r}"
                raise ValueError(msg)
        lines: dict[tuple[tuple[tuple[str, str], ...], str], dict[UUID, dict[str, Decimal]]] = defaultdict(dict)
        gifts: dict[tuple[tuple[tuple[str, str], ...], str], set[UUID]] = defaultdict(set)
        for entry in self._entries(effective_on):
            pledge = self.pledges[entry.pledge]
            values = [DIMENSIONS[name](self, pledge, entry) for name in group_by]
            for combination in product(*values):
                key = tuple(zip(group_by, combination, strict=True))
                line = lines[(key, pledge.currency)].setdefault(pledge.id, dict.fromkeys(BASE_COLUMNS, ZERO))
                line[entry.column] += entry.amount
                if pledge.unvalued and entry.year == pledge.made_on.year and self._standing(pledge, effective_on):
                    gifts[(key, pledge.currency)].add(pledge.id)
        return {group: self._row(pledge_lines, effective_on, gifts[group]) for group, pledge_lines in lines.items()}

    @staticmethod
    def _standing(pledge: ModelPledge, effective_on: date | None) -> bool:
        """An unvalued gift counts where it was made, until it is withdrawn."""
        if pledge.withdrawn_on is None:
            return True
        return effective_on is not None and effective_on < pledge.withdrawn_on

    def _row(
        self, pledge_lines: dict[UUID, dict[str, Decimal]], effective_on: date | None, gifts: set[UUID]
    ) -> ModelRow:
        base = {origin: dict.fromkeys(BASE_COLUMNS, ZERO) for origin in ("new", "regrant")}
        other: dict[str, dict[str, Decimal]] = {}
        counted: list[ModelPledge] = []
        for pledge_id, line in pledge_lines.items():
            flow = self.pledges[pledge_id].flow
            if flow != "donation":  # not a donation: its own figures, never counted with donations
                sums = other.setdefault(flow, dict.fromkeys(BASE_COLUMNS, ZERO))
                for column, amount in line.items():
                    sums[column] += amount
                continue
            origin = "regrant" if self.pledges[pledge_id].funded_from is not None else "new"
            for column, amount in line.items():
                base[origin][column] += amount
            columns = _with_derived(line)
            if columns["pledged"] != 0 or columns["net_disbursed"] != 0 or pledge_id in gifts:
                counted.append(self.pledges[pledge_id])
        projects = {p.project for p in counted}
        reports = [self._latest_report(self.projects[p], effective_on) for p in projects]
        regions = {self.projects[p].region for p in projects if not self.projects[p].pooled_fund}
        both = {column: base["new"][column] + base["regrant"][column] for column in BASE_COLUMNS}
        return ModelRow(
            columns=_with_derived(both),
            new_money=_with_derived(base["new"]),
            passed_through=_with_derived(base["regrant"]),
            other_flows={flow: _with_derived(sums) for flow, sums in sorted(other.items()) if any(sums.values())},
            pledges=len(counted),
            projects=len(projects),
            organizations=len({p.donor for p in counted}),
            counties=len(regions - {None}),
            person_times=sum(r[2] for r in reports if r),
            households=sum(r[3] or 0 for r in reports if r),
            persons=sum(r[4] or 0 for r in reports if r),
            unvalued_gifts=sum(1 for p in counted if p.unvalued),
        )

    @staticmethod
    def _latest_report(
        project: ModelProject, effective_on: date | None
    ) -> tuple[date, int, int, int | None, int | None] | None:
        known = [r for r in project.reports if effective_on is None or r[0] <= effective_on]
        return max(known, key=lambda r: (r[0], r[1])) if known else None


def _with_derived(base: Mapping[str, Decimal]) -> dict[str, Decimal]:
    pledged = base["intended"] + base["signed"]
    net = base["disbursed"] - base["reversed"] - base["returned"]
    derived = {"pledged": pledged, "net_disbursed": net, "outstanding": base["signed"] - net}
    return {column: base[column] if column in base else derived[column] for column in COLUMNS}


def _region_at(digits: int) -> Callable[[LedgerModel, ModelPledge, Entry], tuple[str, ...]]:
    def values(model: LedgerModel, pledge: ModelPledge, _: Entry) -> tuple[str, ...]:
        project = model.projects[pledge.project]
        if project.pooled_fund or project.region is None:
            return (POOLED,)
        return (project.region[:digits] + "0" * (6 - digits),)

    return values


def _donor(attribute: str) -> Callable[[LedgerModel, ModelPledge, Entry], tuple[str, ...]]:
    def values(model: LedgerModel, pledge: ModelPledge, _: Entry) -> tuple[str, ...]:
        if pledge.anonymous:  # published reports never tell what kind of donor gave anonymously
            return (ANONYMOUS,)
        value = str(model.organizations[pledge.donor].profile[attribute])
        return (value[:2] + "0000",) if attribute == "home_region" else (value,)

    return values


def _project_attribute(attribute: str) -> Callable[[LedgerModel, ModelPledge, Entry], tuple[str, ...]]:
    def values(model: LedgerModel, pledge: ModelPledge, _: Entry) -> tuple[str, ...]:
        value = getattr(model.projects[pledge.project], attribute)
        if isinstance(value, tuple):
            return tuple(value) or (NONE,)
        return (str(value),)

    return values


DIMENSIONS: dict[str, Callable[[LedgerModel, ModelPledge, Entry], tuple[str, ...]]] = {
    "donor": lambda m, p, e: (ANONYMOUS if p.anonymous else str(p.donor),),
    "donor_level": _donor("level"),
    "donor_kind": _donor("kind"),
    "donor_province": _donor("home_region"),
    "channel": lambda m, p, e: (str(p.channel) if p.channel else NONE,),
    "implementer": _project_attribute("implementer"),
    "project": lambda m, p, e: (str(p.project),),
    "category": _project_attribute("category"),
    "field": _project_attribute("field"),
    "campaign": _project_attribute("campaigns"),
    "county": _region_at(6),
    "city": _region_at(4),
    "province": _region_at(2),
    "year": lambda m, p, e: (str(e.year),),
    "form": lambda m, p, e: ("in_kind" if p.in_kind else "cash",),
    "origin": lambda m, p, e: ("regrant" if p.funded_from else "new",),
    "destination": lambda m, p, e: ("pooled_fund" if m.projects[p.project].pooled_fund else "project",),
}
"""The grouping dimensions the model predicts (the ledger's, with the same value labels)."""


def _latest(pledge: ModelPledge) -> date | None:
    """The latest of a pledge's last change and last payment: amendments and withdrawals wait for both."""
    dates = [d for d in (pledge.stage_on, pledge.money_on) if d is not None]
    return max(dates) if dates else None
