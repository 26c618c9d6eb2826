"""Command models: what a caller asks the ledger to record, validated before anything is stored.

Every command carries the audit envelope fields (``recorded_by``, ``effective_on``, ``source``)
and an idempotency key ``command_id`` (generated when not given). Commands that create an object
give it an id derived from the command id, so the command id also serves as the object's
external reference (see ``aidledger.derive_id``).
"""

from __future__ import annotations

import hashlib
import uuid
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from aidledger.canonical import canonical_bytes
from aidledger.domain.base import Envelope
from aidledger.domain.disbursement import DisbursementTerms
from aidledger.domain.divisions import unknown_code_warning
from aidledger.domain.organization import OrganizationProfile
from aidledger.domain.pledge import PledgeTerms
from aidledger.domain.project import Disclosure, ProjectPlan
from aidledger.domain.values import (
    ONE_LINE_ACCEPTED,
    TRUSTED,
    Campaign,
    Category,
    CommandId,
    CreditCode,
    DisbursementMethod,
    DisclosureKind,
    EffectiveDate,
    Evidence,
    Field_,
    InKindItem,
    Label,
    Level,
    Money,
    Name,
    OrganizationKind,
    PledgeFlow,
    PledgeStage,
    Reason,
    RegionCode,
    WebAddress,
    check_printable,
    currency_code,
)
from aidledger.errors import InvalidInput

__all__ = [
    "CLEARABLE",
    "REGION_FIELDS",
    "AmendPledge",
    "CancelProject",
    "Command",
    "CompleteProject",
    "ConfirmDisbursement",
    "DeregisterOrganization",
    "Disburse",
    "MakePledge",
    "RecordDisclosure",
    "RegisterOrganization",
    "RegisterProject",
    "ReportBeneficiaries",
    "ReturnDisbursement",
    "ReverseDisbursement",
    "SignPledge",
    "StartProject",
    "UpdateOrganization",
    "WithdrawPledge",
    "build_command",
    "check_label",
    "invalid_input_from",
    "locate_error",
]


def _money_from_plain(raw: Any) -> Any:
    """Let callers write ``amount="1000.00"`` for yuan; a Money or mapping passes through."""
    if isinstance(raw, (str, int, float, Decimal)) and not isinstance(raw, bool):
        return {"value": raw, "currency": "CNY"}
    return raw


COMMAND_TIME: ContextVar[datetime] = ContextVar("aidledger_command_time")
"""The transaction time of the command being run: every event it stores carries this one time."""

MoneyInput = Annotated[Money, BeforeValidator(_money_from_plain)]
"""Money as a ``Money``, a mapping ``{"value": ..., "currency": ...}``, or a yuan amount string."""


REGION_FIELDS = ("region", "home_region")
"""Command fields holding a division code, checked against the ministry's lists for warnings."""


class Command(BaseModel):
    """Base of every command: the idempotency key and the audit envelope."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    command_name: ClassVar[str] = "command"
    added_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields added after commands of this kind were stored: left out of the digest while empty,
    so a stored command repeated as it was keeps its digest."""

    command_id: CommandId | None = None
    recorded_by: Label | None = None
    effective_on: EffectiveDate
    source: Evidence | None = None

    def digest(self) -> str:
        """SHA-256 of the command's name and payload (all but the command id and who recorded it)."""
        # Who recorded it is audit metadata, not the command: another clerk repeating the same
        # command (re-running an import, say) repeats it, and gets the first receipt back.
        empty = {name for name in self.added_fields if not getattr(self, name)}
        payload = self.model_dump(exclude={"command_id", "recorded_by", *empty})
        return hashlib.sha256(canonical_bytes({"command": self.command_name, "payload": payload})).hexdigest()

    def warnings(self) -> tuple[str, ...]:
        """What the ledger accepts but a person should check: a region code in none of the ministry's
        lists (``aidledger.domain.divisions``); empty for most commands."""
        found = []
        for name in REGION_FIELDS:
            code = getattr(self, name, None)
            warning = unknown_code_warning(code) if isinstance(code, str) else None
            if warning is not None:
                found.append(f"{name}: {warning}")
        return tuple(found)

    def domain_value(self) -> Any:
        """The domain value the command carries (plan, terms, ...), validated once; ``None`` if none."""
        return self._validated_value

    @cached_property
    def _validated_value(self) -> Any:
        # Made of the command's own fields, never of its envelope (id, who, when, source): a copy
        # with another envelope carries the same value.
        return self._domain_value()

    def _domain_value(self) -> Any:
        return None

    def envelope(self) -> Envelope:
        """The audit envelope that goes on every event this command stores."""
        assert self.command_id is not None and self.recorded_by is not None
        # Every field was validated by the command itself: the envelope only gathers them.
        return Envelope.model_construct(
            recorded_by=self.recorded_by,
            effective_on=self.effective_on,
            source=self.source,
            command_id=self.command_id,
            timestamp=COMMAND_TIME.get(None),
        )


class RegisterOrganization(Command):
    """Register an organization (社会组织) or other donor."""

    command_name: ClassVar[str] = "register_organization"

    organization_name: Name = Field(alias="name")
    kind: OrganizationKind
    level: Level
    home_region: RegionCode
    credit_code: CreditCode | None = None
    charity: bool = False
    charity_since: EffectiveDate | None = None
    public_fundraising: bool = False
    public_fundraising_from: EffectiveDate | None = None
    public_fundraising_until: EffectiveDate | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    def _domain_value(self) -> Any:
        data = self.model_dump(exclude={"command_id", "recorded_by", "effective_on", "source", "organization_name"})
        return OrganizationProfile.model_validate({"name": self.organization_name, **data}, context=TRUSTED)

    def profile(self) -> OrganizationProfile:
        """The profile this command registers."""
        profile: OrganizationProfile = self.domain_value()
        return profile


CLEARABLE = ("charity_since", "credit_code", "public_fundraising_from", "public_fundraising_until")
"""The profile fields ``update_organization`` can clear: the optional ones without a default."""


def _clear_list(names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields to clear, each once, in a fixed order (so the digest does not depend on it)."""
    return tuple(sorted(set(names)))


class UpdateOrganization(Command):
    """Change some of an organization's profile; fields left out keep their value, fields named in
    ``clear`` lose theirs."""

    command_name: ClassVar[str] = "update_organization"
    added_fields: ClassVar[frozenset[str]] = frozenset({"clear"})

    organization_id: UUID
    organization_name: Name | None = Field(default=None, alias="name")
    kind: OrganizationKind | None = None
    level: Level | None = None
    home_region: RegionCode | None = None
    credit_code: CreditCode | None = None
    charity: bool | None = None
    charity_since: EffectiveDate | None = None
    public_fundraising: bool | None = None
    public_fundraising_from: EffectiveDate | None = None
    public_fundraising_until: EffectiveDate | None = None
    clear: Annotated[
        tuple[Literal["charity_since", "credit_code", "public_fundraising_from", "public_fundraising_until"], ...],
        AfterValidator(_clear_list),
    ] = ()
    """Profile fields to clear (set to none): any of :data:`CLEARABLE`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _not_given_and_cleared(self) -> UpdateOrganization:
        both = [name for name in self.clear if getattr(self, name) is not None]
        if both:
            msg = f"clear: {', '.join(both)} is both given a value and cleared; accepted: either a value or clear"
            raise ValueError(msg)
        return self

    def changes(self) -> dict[str, Any]:
        """The profile fields this command changes (a cleared field changes to ``None``)."""
        data = self.model_dump(
            exclude={
                "command_id", "recorded_by", "effective_on", "source", "organization_id", "organization_name", "clear",
            },
            exclude_none=True,
        )  # fmt: skip
        if self.organization_name is not None:
            data["name"] = self.organization_name
        return data | dict.fromkeys(self.clear)


class DeregisterOrganization(Command):
    """Deregister an organization (注销)."""

    command_name: ClassVar[str] = "deregister_organization"

    organization_id: UUID
    reason: Reason


class RegisterProject(Command):
    """Register an aid project, or a pooled fund held by an intermediary."""

    command_name: ClassVar[str] = "register_project"

    title: Name
    implementing_organization_id: UUID
    region: RegionCode | None = None
    pooled_fund: bool = False
    category: Category
    field: Field_
    campaigns: tuple[Campaign, ...] = ()
    planned_start: EffectiveDate
    planned_end: EffectiveDate
    budget: MoneyInput | None = None

    def _domain_value(self) -> Any:
        data = self.model_dump(exclude={"command_id", "recorded_by", "effective_on", "source"})
        return ProjectPlan.model_validate(data | {"budget": self.budget}, context=TRUSTED)

    def plan(self) -> ProjectPlan:
        """The plan this command registers."""
        plan: ProjectPlan = self.domain_value()
        return plan


class StartProject(Command):
    """Record that work on a project began on ``effective_on``."""

    command_name: ClassVar[str] = "start_project"

    project_id: UUID


class ReportBeneficiaries(Command):
    """Report cumulative beneficiaries as of ``effective_on``; the latest report stands."""

    command_name: ClassVar[str] = "report_beneficiaries"

    project_id: UUID
    person_times: Annotated[int, Field(ge=0, le=10**10, strict=True)]
    households: Annotated[int, Field(ge=0, le=10**9, strict=True)] | None = None
    persons: Annotated[int, Field(ge=0, le=10**10, strict=True)] | None = None


class RecordDisclosure(Command):
    """Record a published progress or final report; ``effective_on`` is the publication date."""

    command_name: ClassVar[str] = "record_disclosure"

    project_id: UUID
    kind: DisclosureKind
    period_start: EffectiveDate
    period_end: EffectiveDate
    channel: Label
    url: WebAddress | None = None
    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None

    def _domain_value(self) -> Any:
        data = self.model_dump(include={"kind", "period_start", "period_end", "channel", "url", "content_sha256"})
        return Disclosure.model_validate(data, context=TRUSTED)

    def disclosure(self) -> Disclosure:
        """The disclosure this command records."""
        disclosure: Disclosure = self.domain_value()
        return disclosure


class CompleteProject(Command):
    """Record that a project ended on ``effective_on``."""

    command_name: ClassVar[str] = "complete_project"

    project_id: UUID


class CancelProject(Command):
    """Call a project off."""

    command_name: ClassVar[str] = "cancel_project"

    project_id: UUID
    reason: Reason


def _amount_or_goods(amount: Money | None, items: tuple[InKindItem, ...], currency: str | None) -> Money:
    """The amount a pledge or delivery carries: the one given, or for goods given without one (an
    unvalued in-kind gift) :meth:`Money.unassessed` in ``currency`` (CNY by default)."""
    if amount is None:
        if not items:
            msg = (
                "amount: an amount is required unless goods are given (items); accepted: a positive decimal "
                "such as '1000.00', or items with no amount for goods whose value was not assessed"
            )
            raise ValueError(msg)
        return Money.unassessed(currency or "CNY")
    if currency is not None and currency_code(currency) != amount.currency:
        msg = (
            f"currency: {currency!r} differs from the amount's currency {amount.currency!r}; the currency field "
            "is for goods given with no amount; accepted: the amount's own currency, or no currency"
        )
        raise ValueError(msg)
    return amount


class MakePledge(Command):
    """Record a donor's pledge of money, or of goods and services with their assessed value, or of
    goods whose value was not assessed (items and no amount: an unvalued gift, in ``currency``'s rows)."""

    command_name: ClassVar[str] = "make_pledge"
    added_fields: ClassVar[frozenset[str]] = frozenset({"currency", "funded_from_pool"})

    donor_id: UUID
    project_id: UUID
    amount: MoneyInput | None = None
    """Required unless ``items`` are given; without it the goods are an unvalued gift."""
    currency: Annotated[str, AfterValidator(currency_code)] | None = None
    """The currency whose rows count an unvalued gift (default CNY); with an amount, its own currency."""
    items: tuple[InKindItem, ...] = ()
    stage: PledgeStage = PledgeStage.signed
    channel_id: UUID | None = None
    funded_from: UUID | None = None
    funded_from_pool: UUID | None = None
    """A regrant from a pooled fund (a project) whose pledges the library draws on, oldest money first."""
    anonymous: bool = False
    flow: PledgeFlow = PledgeFlow.donation

    @model_validator(mode="before")
    @classmethod
    def _default_currency_left_out(cls, raw: Any) -> Any:
        """Goods with no amount in CNY, the default, are the same command whether CNY is written or not."""
        currency = raw.get("currency") if isinstance(raw, dict) and raw.get("amount") is None else None
        if isinstance(currency, str) and currency.strip().upper() == "CNY":
            return {key: value for key, value in raw.items() if key != "currency"}
        return raw

    @model_validator(mode="after")
    def _amount_or_items(self) -> MakePledge:
        _amount_or_goods(self.amount, self.items, self.currency)
        return self

    def _domain_value(self) -> Any:
        data = self.model_dump(
            include={"donor_id", "project_id", "channel_id", "funded_from", "funded_from_pool", "anonymous", "flow"}
        )
        amount = _amount_or_goods(self.amount, self.items, self.currency)
        return PledgeTerms.model_validate(data | {"amount": amount, "items": self.items}, context=TRUSTED)

    def terms(self) -> PledgeTerms:
        """The terms this command pledges."""
        terms: PledgeTerms = self.domain_value()
        return terms


class SignPledge(Command):
    """Turn an intended pledge into a signed agreement."""

    command_name: ClassVar[str] = "sign_pledge"

    pledge_id: UUID


class AmendPledge(Command):
    """Change a pledge's amount, with a reason."""

    command_name: ClassVar[str] = "amend_pledge"

    pledge_id: UUID
    amount: MoneyInput
    reason: Reason


class WithdrawPledge(Command):
    """Withdraw a pledge that nothing was disbursed against."""

    command_name: ClassVar[str] = "withdraw_pledge"

    pledge_id: UUID
    reason: Reason


class Disburse(Command):
    """Record money or goods handed over against a pledge; ``effective_on`` is the value date."""

    command_name: ClassVar[str] = "disburse"

    pledge_id: UUID
    amount: MoneyInput | None = None
    """Required unless ``items`` are given; goods with no amount are a delivery against an unvalued gift,
    in the pledge's currency."""
    items: tuple[InKindItem, ...] = ()
    method: DisbursementMethod = DisbursementMethod.bank_transfer

    @model_validator(mode="after")
    def _amount_or_items(self) -> Disburse:
        _amount_or_goods(self.amount, self.items, None)
        return self

    def _domain_value(self) -> Any:
        amount = _amount_or_goods(self.amount, self.items, None)  # goods with no amount: see terms()
        data = {"pledge_id": self.pledge_id, "method": self.method, "amount": amount, "items": self.items}
        return DisbursementTerms.model_validate(data, context=TRUSTED)

    def terms(self, pledge_currency: str = "CNY") -> DisbursementTerms:
        """The terms of this disbursement; goods with no amount are in the pledge's currency, ``pledge_currency``."""
        terms: DisbursementTerms = self.domain_value()
        if self.amount is None:
            return terms.model_copy(update={"amount": Money.unassessed(pledge_currency)})
        return terms


class ConfirmDisbursement(Command):
    """Record the recipient's confirmation of receipt (到位)."""

    command_name: ClassVar[str] = "confirm_disbursement"

    disbursement_id: UUID


class ReverseDisbursement(Command):
    """Record that a disbursement was a recording error and never happened."""

    command_name: ClassVar[str] = "reverse_disbursement"

    disbursement_id: UUID
    reason: Reason


class ReturnDisbursement(Command):
    """Record money or goods given back against a disbursement."""

    command_name: ClassVar[str] = "return_disbursement"

    disbursement_id: UUID
    amount: MoneyInput
    reason: Reason


TCommand = TypeVar("TCommand", bound=Command)


def build_command(
    command_class: type[TCommand], given: TCommand | None, fields: dict[str, Any], *, recorded_by: str | None
) -> TCommand:
    """Validate a command from a model or keyword fields, filling the id and the default actor.

    Raises :class:`InvalidInput` naming every bad field, its value and what is accepted.
    """
    if given is not None and fields:
        raise InvalidInput("command", type(given).__name__, "either a command model or keyword fields, not both")
    if given is not None and not isinstance(given, command_class):
        raise InvalidInput("command", type(given).__name__, f"a {command_class.__name__}")
    try:
        command = given if given is not None else command_class.model_validate(fields)
        command = _complete(command, recorded_by)
        command.domain_value()
    except ValidationError as error:
        raise invalid_input_from(error, command_class.__name__) from None
    return command


def _complete(command: TCommand, recorded_by: str | None) -> TCommand:
    updates: dict[str, Any] = {}
    if command.command_id is None:
        updates["command_id"] = f"cmd-{uuid.uuid4().hex}"
    if command.recorded_by is None:
        if recorded_by is None:
            raise InvalidInput("recorded_by", None, "the id of the user or system recording this (required)")
        updates["recorded_by"] = recorded_by
    # Both values are checked strings: copying is enough, and cheaper than validating again.
    return command.model_copy(update=updates) if updates else command


def check_label(field: str, text: str) -> None:
    """Refuse a control character in a label given outside a command (the default recorder)."""
    try:
        check_printable(text)
    except ValueError as error:
        raise InvalidInput(field, text, ONE_LINE_ACCEPTED, problems=(f"{field}: {error}",)) from None


def invalid_input_from(error: ValidationError, what: str) -> InvalidInput:
    """Turn pydantic's errors into one :class:`InvalidInput` naming each field and value."""
    located = [locate_error(item) for item in error.errors()]
    problems = tuple(f"{what}.{field}: {message} (got {value!r})" for field, value, message in located)
    field, value, message = located[0]
    return InvalidInput(field, value, message, problems=problems)


def locate_error(item: Any) -> tuple[str, Any, str]:
    """Field, value and message of one pydantic error; model-level messages start 'field: '."""
    message = str(item["msg"]).removeprefix("Value error, ")
    field = ".".join(str(part) for part in item["loc"])
    value = item.get("input")
    if not field and ": " in message:
        field, message = message.split(": ", 1)
        value = value.get(field) if isinstance(value, dict) else value
    return field or "command", value, message
