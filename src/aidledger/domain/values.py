"""Value objects of the domain: money, in-kind items, regions, enums and evidence.

Everything here is immutable and validated on construction. Money is an exact ``Decimal`` in an
ISO 4217 currency; it is never a float and never rounded.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from iso4217 import Currency
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

__all__ = [
    "CONTROL_CHARACTERS",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "MAX_AMOUNT",
    "ONE_LINE_ACCEPTED",
    "TRUSTED",
    "Campaign",
    "Category",
    "CommandId",
    "CreditCode",
    "DisbursementMethod",
    "DisclosureKind",
    "EffectiveDate",
    "Evidence",
    "Field_",
    "InKindItem",
    "Label",
    "Level",
    "Money",
    "Name",
    "OneLine",
    "OrganizationKind",
    "PledgeFlow",
    "PledgeStage",
    "Reason",
    "RegionCode",
    "Text",
    "WebAddress",
    "check_printable",
    "currency_code",
    "parse_amount",
    "parse_effective_date",
    "parse_quantity",
]

MAX_AMOUNT = Decimal(10) ** 15
"""Amounts must stay below this (10^15 of a currency's main unit)."""

MAX_NAME_LENGTH = 500
MAX_TEXT_LENGTH = 2000

# Provincial-level prefixes of GB/T 2260 codes: the first two digits of every valid region code.
_PROVINCE_PREFIXES = frozenset(
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


TRUSTED = {"trusted": True}
"""Validation context for reading back stored events: they were checked when recorded, so the
costly checks (check digits, ISO tables, amount rules) are skipped; types are still enforced."""


def _trusted(info: ValidationInfo | None) -> bool:
    return bool(info is not None and isinstance(info.context, dict) and info.context.get("trusted"))


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc): C0, DEL and C1. A terminal obeys them (an escape
sequence can clear the screen, hide text or retitle the window), so text refuses them at input."""

_CONTROLS_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""Half of a UTF-16 surrogate pair, alone. JSON can spell one (``"\\ud800"``); UTF-8 cannot encode
it, so no store or digest could take the text (it raised ``UnicodeEncodeError`` from deep inside)."""

ONE_LINE_ACCEPTED = "text on one line without control characters (U+0000-U+001F, U+007F-U+009F)"
LINES_ACCEPTED = "text without control characters (U+0000-U+001F, U+007F-U+009F) other than the newline U+000A"


def check_printable(text: str, *, newline: bool = False) -> str:
    """Return ``text``, or raise ``ValueError`` naming its first control character or lone surrogate.

    ``newline`` allows U+000A (a reason may run over lines); a carriage return is refused even
    then: it moves a terminal's cursor back over what was printed.
    """
    found = (_CONTROLS_BUT_NEWLINE if newline else CONTROL_CHARACTERS).search(text) or _LONE_SURROGATE.search(text)
    if found is None:
        return text
    char = found.group()
    what = "a lone surrogate, which UTF-8 cannot encode," if _LONE_SURROGATE.match(char) else "the control character"
    accepted = LINES_ACCEPTED if newline else ONE_LINE_ACCEPTED
    msg = (
        f"{text!r} contains {what} U+{ord(char):04X} ({char!r}) at character {found.start() + 1}; accepted: {accepted}"
    )
    raise ValueError(msg)


def _one_line(text: str, info: ValidationInfo) -> str:
    return text if _trusted(info) else check_printable(text)


def _lines(text: str, info: ValidationInfo) -> str:
    return text if _trusted(info) else check_printable(text, newline=True)


def _one_line_given(raw: Any, info: ValidationInfo) -> Any:
    return check_printable(raw) if isinstance(raw, str) and not _trusted(info) else raw


OneLine = AfterValidator(_one_line)
"""Refuses control characters, the newline among them, except in stored events read back."""


class FrozenModel(BaseModel):
    """Base of every value object and event payload: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class OrganizationKind(StrEnum):
    """Legal form of an organization (社会组织类型)."""

    foundation = "foundation"  # 基金会
    social_group = "social_group"  # 社会团体, incl. industry associations and chambers
    social_service_agency = "social_service_agency"  # 社会服务机构 (民非)
    enterprise = "enterprise"  # 企业
    other = "other"


class Level(StrEnum):
    """Registration level (登记级别)."""

    national = "national"  # 全国性
    provincial = "provincial"  # 省级
    municipal = "municipal"  # 市级
    county = "county"  # 县级


class Category(StrEnum):
    """Kind of aid a project gives."""

    direct_aid = "direct_aid"  # 直接提供资金物资 (“输血式”)
    capacity = "capacity"  # 产业/教育/健康/就业 (“造血式”)
    public_welfare = "public_welfare"  # 公益类


class Field_(StrEnum):  # noqa: N801 - "Field" is pydantic's; the trailing underscore avoids the clash
    """Field of work of a project."""

    industry = "industry"
    employment = "employment"
    education = "education"
    health = "health"
    volunteer = "volunteer"
    relocation = "relocation"  # 易地扶贫搬迁
    ecology = "ecology"
    other = "other"


class PledgeFlow(StrEnum):
    """What kind of flow a pledge is (DESIGN §3 rule 8): a donation, or money that is not one.

    Only donations count in donation totals; an investment or a loan is kept apart, in its own
    figures, and is never added to them.
    """

    donation = "donation"
    """A gift (捐赠): the default."""
    investment = "investment"
    """Commercial investment (投资), e.g. a member company's stake in a county's pig farm."""
    loan = "loan"
    """Money lent (借款), to be repaid."""


class PledgeStage(StrEnum):
    """How firm a pledge is: intended (意向) or signed (签约)."""

    intended = "intended"
    signed = "signed"


class DisclosureKind(StrEnum):
    """A progress report during a project, or the final report on the use of funds."""

    progress = "progress"
    final = "final"


class DisbursementMethod(StrEnum):
    """How money or goods were handed over."""

    bank_transfer = "bank_transfer"
    cash = "cash"
    goods_delivery = "goods_delivery"
    service_delivery = "service_delivery"
    other = "other"


def _accepted_scale(currency: str) -> int:
    exponent = Currency(currency).exponent
    assert exponent is not None  # refused by Money's currency check
    return min(int(exponent), 2)


def parse_amount(raw: Any, *, scale: int = 2) -> Decimal:
    """Parse a positive exact amount with at most ``scale`` decimal places, below 10^15.

    Accepts ``Decimal``, ``int`` and decimal strings such as ``"1234.50"``. Refuses floats (they
    are not exact), booleans, ``NaN``, infinities, zero, negatives and anything that would need
    rounding. Raises ``ValueError`` whose message says what is accepted.
    """
    if isinstance(raw, (bool, float)):
        kind = "a boolean" if isinstance(raw, bool) else "a float"
        msg = f"{raw!r} is {kind}; give the amount as a decimal string such as '1234.50'"
        raise ValueError(msg)
    if isinstance(raw, str):
        text = raw.strip()
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):  # ASCII digits only; no "+", no exponent
            msg = f"{raw!r} is not a plain decimal number such as '1234.50'"
            raise ValueError(msg)
        value = Decimal(text)
    elif isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    else:
        msg = f"{raw!r} is not an amount; give a decimal string such as '1234.50'"
        raise ValueError(msg)
    return _check_amount(value, raw, scale)


def _check_amount(value: Decimal, raw: Any, scale: int) -> Decimal:
    if not value.is_finite():
        msg = f"{raw!r} is not a finite number; give a decimal string such as '1234.50'"
        raise ValueError(msg)
    if value <= 0:
        msg = f"{raw!r} is not positive; amounts are greater than zero"
        raise ValueError(msg)
    if value >= MAX_AMOUNT:
        msg = f"{raw!r} is too large; amounts are below 10^15"
        raise ValueError(msg)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < -scale and value != value.quantize(Decimal(1).scaleb(-scale)):
        msg = f"{raw!r} has more than {scale} decimal places; it is never rounded silently"
        raise ValueError(msg)
    try:
        return value.quantize(Decimal(1).scaleb(-scale))
    except InvalidOperation:  # pragma: no cover - guarded by the bound above
        msg = f"{raw!r} cannot be represented exactly"
        raise ValueError(msg) from None


def currency_code(raw: Any) -> str:
    """An ISO 4217 code of a currency with minor units, upper-cased; ``ValueError`` saying what is accepted."""
    if not isinstance(raw, str):
        msg = f"{raw!r} is not a currency code; give an ISO 4217 code such as 'CNY'"
        raise ValueError(msg)
    code = raw.strip().upper()
    try:
        exponent = Currency(code).exponent
    except ValueError:
        msg = f"{raw!r} is not an ISO 4217 currency code such as 'CNY' or 'USD'"
        raise ValueError(msg) from None
    if exponent is None:  # XAU, XDR, XXX ...: units of account and metals, not money to pay with
        msg = f"{raw!r} is an ISO 4217 code without minor units (a metal or unit of account), not a currency"
        raise ValueError(msg)
    return code


class Money(FrozenModel):
    """An exact, positive amount in one ISO 4217 currency."""

    value: Decimal
    currency: str = "CNY"

    @field_validator("currency", mode="before")
    @classmethod
    def _known_currency(cls, raw: Any, info: ValidationInfo) -> str:
        if _trusted(info) and isinstance(raw, str):
            return raw
        return currency_code(raw)

    @field_validator("value", mode="before")
    @classmethod
    def _exact_value(cls, raw: Any, info: ValidationInfo) -> Decimal:
        if _trusted(info) and isinstance(raw, str):
            return Decimal(raw)
        return parse_amount(raw)

    def model_post_init(self, __context: Any) -> None:
        """Refuse more decimal places than the currency has (e.g. none for JPY)."""
        if isinstance(__context, dict) and __context.get("trusted"):
            return
        scale = _accepted_scale(self.currency)
        if scale < 2:
            parse_amount(self.value.normalize(), scale=scale)

    @classmethod
    def of(cls, value: Any, currency: str = "CNY") -> Money:
        """Build money from a decimal string, int or ``Decimal``."""
        return cls(value=value, currency=currency)

    @classmethod
    def unassessed(cls, currency: str = "CNY") -> Money:
        """The amount an unvalued in-kind gift carries: zero, as no value was assessed (DESIGN §3 rule 9).

        Only goods with items may carry it (the command checks); every amount given is positive, so a
        zero amount means "not assessed" and nothing else. The currency names the totals row the gift
        is counted in; it is never added to any money column.
        """
        return cls.model_validate({"value": "0.00", "currency": currency_code(currency)}, context=TRUSTED)

    @property
    def assessed(self) -> bool:
        """Whether this is a real amount rather than the zero of an unvalued gift."""
        return self.value != 0

    def __str__(self) -> str:
        return f"{self.value} {self.currency}"


class InKindItem(FrozenModel):
    """Goods or services given in kind: what, how many, of what unit."""

    description: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), OneLine]
    quantity: Decimal
    unit: Annotated[str, Field(min_length=1, max_length=50), OneLine]

    @field_validator("quantity", mode="before")
    @classmethod
    def _exact_quantity(cls, raw: Any, info: ValidationInfo) -> Decimal:
        if _trusted(info) and isinstance(raw, str):
            return Decimal(raw)
        value = parse_quantity(raw)
        return Decimal(format(value.normalize(), "f"))  # canonical: "400", "2.5", never "4E+2"


_QUANTITY_ACCEPTED = "a quantity is a positive decimal with at most 6 decimal places, such as '370000' or '2.5'"


def parse_quantity(raw: Any) -> Decimal:
    """Parse an in-kind quantity: as :func:`parse_amount` with 6 places, but zero, negative and too
    large quantities get messages of their own (a quantity is not an amount of money)."""
    value: Decimal | None = None
    if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", raw.strip()):
        value = Decimal(raw.strip())
    elif isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) and Decimal(raw).is_finite():
        value = Decimal(raw)
    if value is not None and value == 0:
        msg = f"{raw!r} is zero; {_QUANTITY_ACCEPTED} (leave out an item of which nothing was given)"
        raise ValueError(msg)
    if value is not None and value < 0:
        msg = f"{raw!r} is negative; {_QUANTITY_ACCEPTED}"
        raise ValueError(msg)
    if value is not None and value >= MAX_AMOUNT:
        msg = f"{raw!r} is too large; {_QUANTITY_ACCEPTED}, below 10^15"
        raise ValueError(msg)
    return parse_amount(raw, scale=6)


def _strip_text(raw: Any) -> Any:
    return raw.strip() if isinstance(raw, str) else raw


Name = Annotated[str, BeforeValidator(_strip_text), Field(min_length=1, max_length=MAX_NAME_LENGTH), OneLine]
"""A name or title: 1 to 500 characters after trimming, on one line, without control characters."""

Text = Annotated[
    str, BeforeValidator(_strip_text), Field(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_lines)
]
"""Free text such as a reason: 1 to 2000 characters after trimming, without control characters
but the newline."""

Label = Annotated[str, Field(min_length=1, max_length=200), OneLine]
"""A short single-line text: a command id, who recorded, a channel, an evidence reference."""


def _no_spaces_at_ends(text: str, info: ValidationInfo) -> str:
    if _trusted(info) or text == text.strip():
        return text
    # a reference is trimmed before it is resolved, so it could never name what this id creates
    msg = f"{text!r} has spaces at an end; accepted: an id without spaces at either end"
    raise ValueError(msg)


CommandId = Annotated[Label, AfterValidator(_no_spaces_at_ends)]
"""A command's idempotency key: a label without spaces at either end."""

Campaign = Annotated[str, Field(min_length=1, max_length=100), OneLine]
"""A campaign tag."""

WebAddress = Annotated[
    str, BeforeValidator(_one_line_given), Field(min_length=1, max_length=2000, pattern=r"^https?://\S+$")
]
"""An http(s) URL without spaces or control characters (checked first, so the message names them)."""

Reason = Text


def _check_region(code: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return code
    if not re.fullmatch(r"\d{6}", code):
        msg = f"{code!r} is not a 6-digit GB/T 2260 administrative code such as '130722'"
        raise ValueError(msg)
    if code[:2] not in _PROVINCE_PREFIXES:
        msg = f"{code!r} does not start with a provincial code (11..82) of GB/T 2260"
        raise ValueError(msg)
    return code


RegionCode = Annotated[str, BeforeValidator(_strip_text), AfterValidator(_check_region)]
"""A 6-digit GB/T 2260 administrative division code (province, city or county)."""


def _check_credit_code(code: str, info: ValidationInfo) -> str:
    if _trusted(info):
        return code
    try:
        return str(uscc.validate(code))
    except StdnumValidationError as error:
        msg = f"{code!r} is not a valid unified social credit code (18 characters with check digit): {error}"
        raise ValueError(msg) from None


CreditCode = Annotated[str, BeforeValidator(_strip_text), AfterValidator(_check_credit_code)]
"""A unified social credit code (统一社会信用代码), validated by its check digit."""


EARLIEST_DATE = date(1900, 1, 1)
"""The earliest world date a command may carry (an organization's ``charity_since`` can be old)."""
LATEST_DATE = date(2199, 12, 31)
"""The latest world date a command may carry; later years are typing mistakes or sentinels."""


def parse_effective_date(raw: Any) -> date:
    """Read a world date: a ``date``, an ISO ``YYYY-MM-DD`` string, or a timezone-aware datetime.

    A datetime without a timezone is refused: its day would depend on where the ledger runs.
    A date outside ``EARLIEST_DATE``..``LATEST_DATE`` is refused: year 0001 or 9999 is a typing
    mistake or a sentinel, never a day on which money moved.
    """
    day = _calendar_date(raw)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        msg = f"{day.isoformat()!r} is outside the accepted dates {EARLIEST_DATE} to {LATEST_DATE}"
        raise ValueError(msg)
    return day


def _calendar_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        if raw.tzinfo is None or raw.utcoffset() is None:
            msg = f"{raw.isoformat()!r} is a datetime with no timezone; give a date or an aware datetime"
            raise ValueError(msg)
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        msg = f"{raw!r} is not a real calendar date in the form YYYY-MM-DD"
        raise ValueError(msg)
    msg = f"{raw!r} is not a date; give YYYY-MM-DD"
    raise ValueError(msg)


def _effective_date(raw: Any, info: ValidationInfo) -> date:
    if _trusted(info) and isinstance(raw, str):
        return date.fromisoformat(raw)
    return parse_effective_date(raw)


EffectiveDate = Annotated[date, BeforeValidator(_effective_date)]
"""A date in the world (valid time)."""


class Evidence(FrozenModel):
    """What backs a record: an agreement or receipt number, a URL, the document's SHA-256."""

    reference: Label | None = None
    url: WebAddress | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
