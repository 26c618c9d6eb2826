"""What an import says about its problems and its work, in English or Chinese: every Chinese word
an import prints is in this module.

A problem is found, and worded in English, where it is found: by a reader, by a command model,
by the domain's rules. :func:`problem_line` and :func:`problem_cell` say it in the language asked
for. In Chinese the frame is always Chinese — the sheet and row (``工作表「认捐」第 5 行`` or
``第 5 行``), the column by its Chinese header from the one vocabulary
(:mod:`aidledger.interchange.vocabulary`) with its key, the value as written (quoted and escaped as
in English) — and the common kinds of problem are told in Chinese: a missing field, an unknown
command or column, a bad date, amount or enumerated value, a reference to nothing, a command id
used twice, each rule of the ledger. A detail with no translation here (worded deep in the domain)
is kept in English after the Chinese frame rather than guessed at; its ``accepted:`` becomes
``可接受：``. docs/import.md ("Messages in Chinese") shows the result.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from types import MappingProxyType
from typing import Final

from aidledger.errors import InvalidInput
from aidledger.interchange.csvformat import AMOUNT_ACCEPTED, DATE_COLUMNS, MONEY_COLUMNS
from aidledger.interchange.vocabulary import COLUMN_NAMES, COMMAND_NAMES, ENUM_VALUES
from aidledger.interchange.workbook import LANGUAGES

__all__ = [
    "LANGUAGES",
    "RULE_NAMES",
    "TEXTS",
    "check_language",
    "column_label",
    "file_problem",
    "in_file",
    "problem_cell",
    "problem_line",
    "problem_message",
    "rule_name",
    "say",
    "warning_line",
    "where",
]

TEXTS: Final = MappingProxyType(
    {
        "imported": {
            "en": "Imported {file}: {rows_read} rows read, {stored} stored, {already_present} already present, "
            "{rejected} rejected",
            "zh": "已导入 {file}：读取 {rows_read} 行，存入 {stored} 行，已存在 {already_present} 行，"
            "拒绝 {rejected} 行",
        },
        "checked": {
            "en": "Checked (dry run, nothing stored) {file}: {rows_read} rows read, {stored} would be stored, "
            "{already_present} already present, {rejected} rejected",
            "zh": "已检查（试运行，未存入任何内容）{file}：读取 {rows_read} 行，将存入 {stored} 行，"
            "已存在 {already_present} 行，拒绝 {rejected} 行",
        },
        "rejects_written": {"en": " (written to {rejects_file})", "zh": "（被拒绝的行已写入 {rejects_file}）"},
        "positions": {
            "en": "; log position {position_before} -> {position_after}",
            "zh": "；日志位置 {position_before} -> {position_after}",
        },
        "rejected": {"en": "  rejected {problem}", "zh": "  拒绝 {problem}"},
        "warning": {"en": "  warning {warning}", "zh": "  提醒 {warning}"},
        "more_warnings": {
            "en": "  … and {hidden} more warnings (--json lists up to {listed})",
            "zh": "  …… 另有 {hidden} 条提醒（--json 最多列出 {listed} 条）",
        },
        "refused": {
            "en": "{file}: {rejected} of {rows_read} rows have problems; nothing was stored "
            "(fix them, or import with --skip-invalid to store the other rows)",
            "zh": "{file}：{rows_read} 行中有 {rejected} 行有问题，什么都没有存入"
            "（请改正这些行，或加 --skip-invalid 导入其余各行）",
        },
        "more_problems": {"en": "... and {hidden} more problems", "zh": "…… 另有 {hidden} 个问题"},
        "all_in": {"en": " (all are in {rejects_file})", "zh": "（全部写在 {rejects_file}）"},
        "pass_rejects": {"en": " (pass --rejects FILE to list all)", "zh": "（加 --rejects FILE 可列出全部）"},
        "interrupted_checking": {
            "en": "{file}: interrupted while checking the rows; nothing was stored (log position "
            "{position_before}); run the import again to do it",
            "zh": "{file}：检查各行时被中断，什么都没有存入（日志位置 {position_before}）；再次运行导入即可",
        },
        "interrupted_storing": {
            "en": "{file}: interrupted while storing: {rows} rows were stored (log position "
            "{position_before} -> {position_after}), whole commands in committed transactions, and the rest "
            "were not; run the same import again to store the rest: rows already stored are skipped",
            "zh": "{file}：存入时被中断：已存入 {rows} 行（日志位置 {position_before} -> {position_after}），"
            "都是已提交事务中的完整命令，其余各行未存入；再次运行同一导入即可存入其余各行，已存入的行会跳过",
        },
        "stopped_at": {
            "en": "{where}: {error} ({stored} earlier rows of the file were stored and stay; run the import "
            "again after fixing: rows already stored are skipped)",
            "zh": "{where}：违反账本规则：{rule}（{error}）（文件中此前的 {stored} 行已存入并保留；"
            "改正后再次运行导入，已存入的行会跳过）",
        },
    }
)
"""The sentences of an import's summary and refusal, by name and language (``str.format`` fields)."""

RULE_NAMES: Final = MappingProxyType(
    {
        "EffectiveDateOutOfOrder": ("日期早于它所改变的事项", "日期不早于它所指事项的日期"),
        "InvalidTransition": ("对象当前的状态不允许这一步", "按顺序办理：登记、启动、完成（或取消）"),
        "OverDisbursement": ("拨付超过认捐金额", "不超过认捐尚未拨付部分的金额"),
        "PledgeWithdrawn": ("认捐已撤回", "未撤回的认捐"),
        "PledgeNotSigned": ("认捐尚未签约", "先签约的认捐（在本行之上加一行签约认捐 sign_pledge）"),
        "PledgeAlreadySigned": ("认捐已签约", "每个认捐只签约一次（删除重复的行）"),
        "PledgeBelowDisbursed": ("变更后的认捐金额低于已拨付金额", "不低于已拨付（或已转赠）金额的新金额"),
        "PledgeHasDisbursements": ("已有拨付的认捐不能撤回", "撤回没有拨付的认捐（先退回或冲销），或变更金额"),
        "CurrencyMismatch": ("币种不一致", "与认捐相同的币种"),
        "ProjectClosed": ("项目已完成或已取消", "未完成、未取消的项目"),
        "OrganizationDeregistered": ("组织已注销", "未注销的组织"),
        "DisbursementAlreadyReversed": ("拨付已冲销", "未冲销的拨付（已冲销的拨付不再接受任何操作）"),
        "DisbursementAlreadyConfirmed": ("拨付已确认到账", "每笔拨付只确认一次（删除重复的行）"),
        "DisbursementHasReturns": ("已有退回的拨付不能冲销", "没有退回的拨付（全额退回的请记为退回）"),
        "ReturnExceedsDisbursement": ("退回超过拨付金额", "不超过拨付尚未退回部分的金额"),
        "DuplicateCreditCode": ("统一社会信用代码已属于另一个组织", "其他组织没有用过的统一社会信用代码"),
        "NotAPooledFund": ("资金来源不是联合基金的认捐", "资金来源留空，或填写投向联合基金项目的认捐编号"),
        "PooledFundTakesDonations": ("联合基金只接受捐赠", "资金性质为捐赠（或留空）的认捐"),
        "RegrantExceedsPool": ("转赠超过已拨入联合基金的金额", "不超过已拨入联合基金、尚未转赠的金额"),
        "RegrantDonorMismatch": ("转赠方不是联合基金的实施组织", "捐赠方编号为联合基金实施组织的转赠"),
        "UnvaluedGiftMismatch": ("未估值物资与金额混在一起", "未估值物资不填金额，有金额的不记未估值物资"),
        "AlreadyExists": ("这个对象已由另一条命令创建", "新对象用新的命令编号"),
        "NotFound": ("所指的对象不存在", "账本中已有对象的编号"),
    }
)
"""Each rule of the ledger (its error class in :mod:`aidledger.errors`): a short Chinese description
and what a clerk can do about it."""

_KINDS: Final = MappingProxyType(
    {"organization": "组织", "project": "项目", "pledge": "认捐", "disbursement": "拨付", "command": "命令"}
)
_AMOUNT_ZH: Final = "正数，最多两位小数，如 1234.50、1,234.50 或 378万（即 3780000）"
_DATE_ZH: Final = "YYYY-MM-DD 格式的日期，如 2018-08-01（也可写 2018/8/1 或 2018年8月1日，或日期单元格）"
_AMOUNT_REASONS: Final = MappingProxyType(
    {
        "has a currency sign or unit": "含货币符号或单位；只写数字（币种写在币种列）",
        "has a comma that is not a thousands separator": "含不是千位分隔符的逗号（小数逗号，或不是每三位一组）",
        "is in scientific notation": "是科学计数法（电子表格显示长数字的方式）；请把这一列设为数值或文本格式",
    }
)
_WHERE = re.compile(r"line (\d+)|sheet ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"), row (\d+)")


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else :class:`InvalidInput`."""
    if lang not in LANGUAGES:
        raise InvalidInput("lang", lang, " or ".join(LANGUAGES))
    return lang


def say(lang: str, name: str, **values: object) -> str:
    """The sentence ``name`` of :data:`TEXTS` in ``lang``, its fields filled in."""
    return TEXTS[name][lang].format(**values)


def rule_name(name: str) -> str:
    """A rule of the ledger (its error class's name) described in Chinese, or the name itself."""
    return RULE_NAMES[name][0] if name in RULE_NAMES else name


def where(lang: str, sheet: str | None, row: int) -> str:
    """A row as the clerk finds it: ``line 5`` / ``第 5 行``, or in a workbook
    ``sheet '认捐', row 5`` / ``工作表「认捐」第 5 行``."""
    if lang == "zh":
        return f"第 {row} 行" if sheet is None else f"工作表「{sheet}」第 {row} 行"
    return f"line {row}" if sheet is None else f"sheet {sheet!r}, row {row}"


def column_label(column: str) -> str:
    """A column in Chinese: its header from the vocabulary with its key (``金额（amount）``)."""
    chinese = COLUMN_NAMES.get(column)
    return f"{chinese}（{column}）" if chinese else column


def problem_message(lang: str, column: str, message: str) -> str:
    """What is wrong and what is accepted, in ``lang``: ``message`` (worded in English where the
    problem was found, about ``column``) as it is, or in Chinese."""
    return _chinese(column, message) if lang == "zh" else message


def problem_line(lang: str, sheet: str | None, row: int, column: str, value: str | None, message: str) -> str:
    """One problem on one line: where, the column, the value as written, then ``message`` (already in
    ``lang``: :func:`problem_message`)."""
    cell = problem_cell(lang, column, value, message)
    if lang == "zh":
        return f"{where(lang, sheet, row)}{'，' if column else '：'}{cell}"
    return f"{where(lang, sheet, row)}{', ' if column else ': '}{cell}"


def problem_cell(lang: str, column: str, value: str | None, message: str) -> str:
    """The problem without its row: ``column amount: '¥100' has a currency sign ...`` (``message``
    already in ``lang``)."""
    shown = "" if value is None else f" {value!r}"
    if lang == "zh":
        head = f"列「{column_label(column)}」：" if column else ""
        return f"{head}{shown.strip()}{' ' if shown else ''}{message}"
    head = f"column {column}:" if column else ":"
    return f"{head}{shown} {message}".removeprefix(":").strip()


def warning_line(lang: str, sheet: str | None, row: int, warning: str) -> str:
    """A warning about a row (``home_region: 139999 is in none of ...``): where, then the warning; in
    Chinese the column by its Chinese header, the domain's detail in English."""
    if lang != "zh":
        return f"{where(lang, sheet, row)}: {warning}"
    column, found, detail = warning.partition(": ")
    if found and column in COLUMN_NAMES:
        return f"{where(lang, sheet, row)}，列「{column_label(column)}」：{detail}"
    return f"{where(lang, sheet, row)}：{warning}"


def in_file(lang: str, path: object, problem: str) -> str:
    """A problem of the whole file, after the file's name (a Chinese colon in Chinese)."""
    return f"{path}{'：' if lang == 'zh' else ': '}{file_problem(lang, problem)}"


def file_problem(lang: str, problem: str) -> str:
    """A problem of the whole file (an unknown column in the header) in ``lang``."""
    if lang != "zh":
        return problem
    match = re.fullmatch(
        r"(?P<where>.+?), column (?P<column>'.*'|\".*\"): unknown column(?: \(did you mean (?P<close>'\w+')\?\))?;"
        r" accepted: .*",
        problem,
    )
    if match is None:
        return _accepted(_places(problem))
    close = match.group("close")
    hint = f"（是否想写「{column_label(ast.literal_eval(close))}」？）" if close else ""
    return (
        f"{_places(match.group('where'))}，列 {match.group('column')}：未知的列{hint}；"
        "可接受：docs/import.md 所列的列，用中文或英文列名（以 # 开头的列是备注，导入时忽略）"
    )


def _chinese(column: str, message: str) -> str:
    """``message`` (about ``column``) in Chinese: a known kind of problem is translated, any other
    detail is kept in English with its ``accepted:`` as ``可接受：``."""
    confirmation = "(the confirmation this row records) "
    if message.startswith(confirmation):
        return "（本行记录的到账确认）" + _chinese(column, message.removeprefix(confirmation))
    for pattern, translate in _TRANSLATIONS:
        match = pattern.fullmatch(message)
        if match is not None:
            return translate(column, match)
    if column in MONEY_COLUMNS and message.endswith("; accepted: " + AMOUNT_ACCEPTED):
        reason = message.removesuffix("; accepted: " + AMOUNT_ACCEPTED)
        said = next((zh for en, zh in _AMOUNT_REASONS.items() if reason.startswith(en)), reason)
        return f"金额无法读取：{said}；可接受：{_AMOUNT_ZH}"
    if column in MONEY_COLUMNS and "accepted" not in message:
        return f"金额无法读取：{message}；可接受：{_AMOUNT_ZH}"
    if column in DATE_COLUMNS and re.search(r"is not a (real calendar )?date", message):
        return f"不是有效日期（{message}）；可接受：{_DATE_ZH}"
    if column in ENUM_VALUES and message.startswith("Input should be"):
        accepted = [_enum_name(column, value) for value in re.findall(r"'([^']*)'", message)]
        return "不是可接受的值；可接受：" + "、".join(accepted)
    return _accepted(_places(message))


def _accepted(message: str) -> str:
    detail, found, accepted = message.partition("; accepted: ")
    return f"{detail}；可接受：{accepted}" if found else message


def _places(text: str) -> str:
    """English row references (``line 5``, ``sheet '认捐', row 5``) in ``text`` as Chinese ones."""

    def chinese(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return where("zh", None, int(match.group(1)))
        return where("zh", ast.literal_eval(match.group(2)), int(match.group(3)))

    return _WHERE.sub(chinese, text)


def _command(name: str) -> str:
    chinese = COMMAND_NAMES.get(name)
    return f"{chinese}（{name}）" if chinese else name


def _commands() -> str:
    return "、".join(_command(name) for name in COMMAND_NAMES)


def _enum_name(column: str, value: str) -> str:
    chinese = ENUM_VALUES[column].get(value)
    return f"{chinese}（{value}）" if chinese else value


def _kind(noun: str) -> str:
    return _KINDS.get(noun, noun)


def _missing(column: str, match: re.Match[str]) -> str:
    hint = match.group("hint") or ""
    absent = re.fullmatch(r"the (file|record) has no '(.*)'( column)?", hint)
    if hint == "the cell is empty":
        said = "（这一格是空的）"
    elif absent is not None and absent.group(1) == "file":
        said = f"（文件没有「{column_label(absent.group(2))}」列）"
    elif absent is not None:
        said = f"（记录中没有「{absent.group(2)}」）"
    else:
        said = f"（{hint}）" if hint else ""
    return f"是「{_command(match.group('command'))}」的必填项{said}；可接受：填写这一格"


def _rule(column: str, match: re.Match[str]) -> str:
    name, detail = match.group("name"), match.group("detail")
    described, advice = RULE_NAMES.get(name, ("", ""))
    detail, found, accepted = detail.partition("; accepted: ")
    return (
        f"违反账本规则：{described or name}（{name}：{_places(detail)}）；"
        f"可接受：{advice or (accepted if found else '')}"
    )


def _not_a_command(column: str, match: re.Match[str]) -> str:
    close = match.group("close")
    hint = f"（是否想写「{_command(ast.literal_eval(close))}」？）" if close else ""
    return f"不是可识别的命令{hint}；可接受：{_commands()}"


_Translate = Callable[[str, re.Match[str]], str]
_TRANSLATIONS: Final[tuple[tuple[re.Pattern[str], _Translate], ...]] = (
    (
        re.compile(r"is required for (?P<command>\w+)(?: \((?P<hint>.*)\))?"),
        _missing,
    ),
    (
        re.compile(r"is required: fill the column, or name who records the file"),
        lambda column, match: "是必填项；可接受：填写这一列，或用 --recorded-by 指明记录人",
    ),
    (re.compile(r"is empty; accepted: one of .*"), lambda column, match: f"是空的；可接受：{_commands()}"),
    (re.compile(r"is not a command(?: \(did you mean (?P<close>'\w+')\?\))?; accepted: one of .*"), _not_a_command),
    (
        re.compile(r"does not apply to (?P<command>\w+); leave the cell empty"),
        lambda column, match: f"不适用于「{_command(match.group('command'))}」；可接受：留空",
    ),
    (
        re.compile(
            r"is not a field of (?P<command>\w+)(?: \(did you mean (?P<close>'\w+')\?\))?; accepted: (?P<keys>.*)"
        ),
        lambda column, match: (
            f"不是「{_command(match.group('command'))}」的字段"
            + (f"（是否想写 {match.group('close')}？）" if match.group("close") else "")
            + f"；可接受：{match.group('keys')}"
        ),
    ),
    (
        re.compile(r"names no (?P<kind>\w+) in the ledger or in an earlier row of the file; accepted: .*"),
        lambda column, match: (
            f"找不到这个{_kind(match.group('kind'))}：账本中和本文件上面各行都没有；可接受：账本中或本行之上某行创建的"
            f"{_kind(match.group('kind'))}的命令编号（或 UUID）"
            + ("，或该组织的统一社会信用代码" if match.group("kind") == "organization" else "")
        ),
    ),
    (
        re.compile(r"names the (?P<kind>\w+) that (?P<where>.+) creates, but that row is rejected"),
        lambda column, match: (
            f"指向{_places(match.group('where'))}创建的{_kind(match.group('kind'))}，但那一行被拒绝了；"
            "可接受：先改正那一行"
        ),
    ),
    (
        re.compile(r"names the (?P<created>\w+) that (?P<where>.+) creates, not an? (?P<kind>\w+)"),
        lambda column, match: (
            f"指向{_places(match.group('where'))}创建的{_kind(match.group('created'))}，"
            f"不是{_kind(match.group('kind'))}；可接受：一个{_kind(match.group('kind'))}的编号"
        ),
    ),
    (
        re.compile(r"names an? (?P<found>\w+), not an? (?P<kind>\w+)"),
        lambda column, match: (
            f"指向的是{_kind(match.group('found'))}，不是{_kind(match.group('kind'))}；"
            f"可接受：一个{_kind(match.group('kind'))}的编号"
        ),
    ),
    (
        re.compile(r"is also the command id of (?P<where>.+), which is a different command; accepted: .*"),
        lambda column, match: (
            f"也是{_places(match.group('where'))}的命令编号，而那是另一条命令；可接受：每条命令用自己的命令编号"
        ),
    ),
    (
        re.compile(r"is already in the ledger for a different (?P<command>\w+) command; accepted: .*"),
        lambda column, match: (
            f"账本中已有用这个编号、内容不同的「{_command(match.group('command'))}」命令；"
            "可接受：新的命令编号，或与已存命令完全相同的内容"
        ),
    ),
    (
        re.compile(r"is the same command as (?P<where>.+) and neither row has a command_id, .*"),
        lambda column, match: (
            f"与{_places(match.group('where'))}是同一条命令，且两行都没有命令编号，只会存一次；"
            "可接受：给每行各自的命令编号以记录两条，或删除重复的行"
        ),
    ),
    (re.compile(r"breaks a rule of the ledger: (?P<name>\w+): (?P<detail>.*)"), _rule),
    (
        re.compile(r"was refused by the ledger: (?P<detail>.*)"),
        lambda column, match: f"被账本拒绝（{_places(match.group('detail'))}）；可接受：符合账本规则的命令",
    ),
    (
        re.compile(r"is not a yes/no value; accepted: .*"),
        lambda column, match: "不是“是/否”值；可接受：是/否（也可写 true/false、yes/no、1/0）",
    ),
    (
        re.compile(r"is not a whole number; accepted: .*"),
        lambda column, match: "不是整数；可接受：只写数字，如 1200 或 1,200（不带小数）",
    ),
    (
        re.compile(r"is in a column with no name; name the column or empty it"),
        lambda column, match: "在没有列名的列中；可接受：给这一列起名，或清空它",
    ),
    (
        re.compile(r"applies to an amount or budget; fill that column too"),
        lambda column, match: "只与金额或预算一起使用；可接受：同时填写金额或预算列",
    ),
    (
        re.compile(r"is a date with a time of day; accepted: .*"),
        lambda column, match: f"是带时刻的日期时间；可接受：{_DATE_ZH}",
    ),
)
"""The kinds of problem told in Chinese: the English message's pattern and its Chinese wording."""
