"""The Chinese words of the import format: one mapping, used by the readers and by the template.

A clerk's 台账 is in Chinese. Every column may be headed by its English key (``amount``), by its
Chinese name (``金额``), or by both as the template writes them (``金额 amount``, ``金额（amount）``
or the two on separate lines). Every command may be named in English (``make_pledge``) or in
Chinese (``认捐``); every enumerated value likewise (``social_group`` or ``社会团体``). The tables
below are the whole vocabulary; docs/import.md prints them.
"""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType
from typing import Final

__all__ = [
    "COLUMN_NAMES",
    "COMMAND_NAMES",
    "ENUM_COLUMNS",
    "ENUM_VALUES",
    "column_key",
    "command_key",
    "command_named",
    "enum_choices",
    "enum_key",
    "header_label",
]

COLUMN_NAMES: Final = MappingProxyType(
    {
        "command": "命令",
        "command_id": "命令编号",
        "effective_on": "日期",
        "recorded_by": "记录人",
        "name": "名称",
        "kind": "类型",
        "level": "登记级别",
        "home_region": "所在地区代码",
        "credit_code": "统一社会信用代码",
        "charity": "慈善组织",
        "charity_since": "认定慈善组织日期",
        "public_fundraising": "公开募捐资格",
        "public_fundraising_from": "公开募捐资格起始日",
        "public_fundraising_until": "公开募捐资格截止日",
        "organization_id": "组织编号",
        "clear": "清除字段",
        "title": "项目名称",
        "implementing_organization_id": "实施组织编号",
        "region": "受助地区代码",
        "pooled_fund": "联合基金",
        "category": "项目类别",
        "field": "领域",
        "campaigns": "专项行动",
        "planned_start": "计划开始日期",
        "planned_end": "计划结束日期",
        "budget": "预算",
        "project_id": "项目编号",
        "person_times": "受益人次",
        "households": "受益户数",
        "persons": "受益人数",
        "period_start": "报告期开始",
        "period_end": "报告期结束",
        "channel": "公开渠道",
        "url": "网址",
        "content_sha256": "内容SHA256",
        "donor_id": "捐赠方编号",
        "amount": "金额",
        "currency": "币种",
        "items": "物资明细",
        "stage": "阶段",
        "channel_id": "经由组织编号",
        "funded_from": "资金来源认捐编号",
        "funded_from_pool": "资金来源联合基金编号",
        "anonymous": "匿名",
        "flow": "资金性质",
        "pledge_id": "认捐编号",
        "method": "拨付方式",
        "disbursement_id": "拨付编号",
        "reason": "原因",
        "confirmed_on": "确认到账日期",
        "source_reference": "凭证编号",
        "source_url": "凭证网址",
        "source_sha256": "凭证SHA256",
    }
)
"""Each column's Chinese name (its English key is the column's own name)."""

COMMAND_NAMES: Final = MappingProxyType(
    {
        "register_organization": "登记组织",
        "update_organization": "更新组织",
        "deregister_organization": "注销组织",
        "register_project": "登记项目",
        "start_project": "启动项目",
        "report_beneficiaries": "报告受益人",
        "record_disclosure": "信息公开",
        "complete_project": "完成项目",
        "cancel_project": "取消项目",
        "make_pledge": "认捐",
        "sign_pledge": "签约认捐",
        "amend_pledge": "变更认捐",
        "withdraw_pledge": "撤回认捐",
        "disburse": "拨付",
        "confirm_disbursement": "确认到账",
        "reverse_disbursement": "冲销拨付",
        "return_disbursement": "退回拨付",
    }
)
"""Each command's Chinese name."""

ENUM_VALUES: Final = MappingProxyType(
    {
        "kind": MappingProxyType(
            {
                "foundation": "基金会",
                "social_group": "社会团体",
                "social_service_agency": "社会服务机构",
                "enterprise": "企业",
                "other": "其他",
                "progress": "进展报告",
                "final": "结项报告",
            }
        ),
        "level": MappingProxyType({"national": "全国性", "provincial": "省级", "municipal": "市级", "county": "县级"}),
        "category": MappingProxyType({"direct_aid": "直接援助", "capacity": "能力建设", "public_welfare": "公益类"}),
        "field": MappingProxyType(
            {
                "industry": "产业",
                "employment": "就业",
                "education": "教育",
                "health": "健康",
                "volunteer": "志愿服务",
                "relocation": "易地搬迁",
                "ecology": "生态",
                "other": "其他",
            }
        ),
        "stage": MappingProxyType({"intended": "意向", "signed": "签约"}),
        "flow": MappingProxyType({"donation": "捐赠", "investment": "投资", "loan": "借款"}),
        "method": MappingProxyType(
            {
                "bank_transfer": "银行转账",
                "cash": "现金",
                "goods_delivery": "物资交付",
                "service_delivery": "服务交付",
                "other": "其他",
            }
        ),
    }
)
"""The Chinese name of each enumerated value, by column. The ``kind`` column holds an
organization's legal form and a disclosure's kind; their Chinese names do not overlap."""

ENUM_COLUMNS: Final = frozenset(ENUM_VALUES)

# A few more names clerks write for the same thing (read, never written).
_COLUMN_ALIASES: Final = MappingProxyType(
    {
        "日期": "effective_on",
        "发生日期": "effective_on",
        "信用代码": "credit_code",
        "地区代码": "region",
        "县代码": "region",
    }
)
_VALUE_ALIASES: Final = MappingProxyType(
    {
        "kind": MappingProxyType({"民非": "social_service_agency", "民办非企业单位": "social_service_agency"}),
        "level": MappingProxyType({"全国": "national", "省": "provincial", "市": "municipal", "县": "county"}),
        "category": MappingProxyType({"输血式": "direct_aid", "造血式": "capacity"}),
        "field": MappingProxyType({"易地扶贫搬迁": "relocation"}),
        "method": MappingProxyType({"转账": "bank_transfer", "银行汇款": "bank_transfer"}),
    }
)

_BY_CHINESE: Final = MappingProxyType({**{chinese: key for key, chinese in COLUMN_NAMES.items()}, **_COLUMN_ALIASES})
_COMMAND_BY_CHINESE: Final = MappingProxyType({chinese: key for key, chinese in COMMAND_NAMES.items()})
_HEADER_WORDS = re.compile(r"[\s()（）/:：]+")


def _normal(text: str) -> str:
    """Full-width letters and digits as ASCII, spaces trimmed (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()


def column_key(header: str) -> str | None:
    """The column key a header cell names, or ``None``.

    Accepted: the English key (any case), the Chinese name, or both (``金额 amount``,
    ``金额（amount）``, ``金额\\namount``); when both are given they must name the same column.
    A note column (``#...``) is returned as written.
    """
    text = _normal(header)
    if text.startswith("#") or not text:
        return text
    keys = {_one_word_key(word) for word in _HEADER_WORDS.split(text) if word}
    if len(keys) == 1 and None not in keys:
        return keys.pop()
    return _one_word_key(text)


def _one_word_key(word: str) -> str | None:
    if word.lower() in COLUMN_NAMES:
        return word.lower()
    return _BY_CHINESE.get(word)


def header_label(column: str) -> str:
    """How the template heads a column: the Chinese name above the English key."""
    chinese = COLUMN_NAMES.get(column)
    return f"{chinese}\n{column}" if chinese else column


def command_key(text: str) -> str:
    """The English command a cell names (``认捐`` -> ``make_pledge``); other text lowercased, as given."""
    return command_named(text) or _normal(text).lower()


def command_named(text: str) -> str | None:
    """The English command ``text`` names in English or Chinese (also both: ``认捐 make_pledge``), or ``None``."""
    normal = _normal(text)
    for word in [normal, *_HEADER_WORDS.split(normal)]:
        if word in _COMMAND_BY_CHINESE:
            return _COMMAND_BY_CHINESE[word]
        if word.lower() in COMMAND_NAMES:
            return word.lower()
    return None


def enum_key(column: str, text: str) -> str:
    """The English value a cell of an enumerated column names (``社会团体`` -> ``social_group``).

    Accepted: the English value (any case), its Chinese name, or both as the template's
    drop-downs write them (``社会团体 social_group``). Anything else is returned as written, for the
    command model to refuse with the list of accepted values.
    """
    names = ENUM_VALUES[column]
    aliases = _VALUE_ALIASES.get(column, MappingProxyType({}))
    normal = _normal(text)
    for word in [normal, *_HEADER_WORDS.split(normal)]:
        if word.lower() in names:
            return word.lower()
        for key, chinese in names.items():
            if word == chinese:
                return key
        if word in aliases:
            return aliases[word]
    return text


def enum_choices(column: str) -> list[str]:
    """The drop-down entries of an enumerated column: ``社会团体 social_group``, ..."""
    return [f"{chinese} {key}" for key, chinese in ENUM_VALUES[column].items()]
