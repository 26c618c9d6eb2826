"""The words of the site, in Chinese (the default) and English.

Stored values (categories, levels, statuses, column names) are shown by their label here; a value
without a label is shown as stored, escaped. A division code is shown with its official name
(:mod:`aidledger.domain.divisions`) before it, or alone when the code list does not know it.
"""

from __future__ import annotations

from aidledger.domain.divisions import name_of

__all__ = ["LANGUAGES", "label", "place", "words"]

LANGUAGES = ("zh", "en")

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "site_title": "社会组织帮扶台账 · 公开透明",
        "overview": "总览", "whole_ledger": "全部台账", "campaign": "活动", "campaigns": "活动",
        "counties": "县", "county": "县", "projects": "项目", "project": "项目",
        "organizations": "社会组织", "organization": "社会组织", "verify": "如何核验",
        "headline": "主要数字", "new_money_note": "新增资金只计一次（不含经资金池转拨的资金）",
        "passed_through": "经资金池转拨（另列，不计入上述新增资金）", "in_kind_value": "物资折价（新增）",
        "by_category": "按项目类别", "by_donor_level": "按捐赠方登记级别", "by_field": "按领域",
        "by_county": "按县", "over_time": "认捐与拨付（累计，按月末）", "disclosure": "信息公开情况",
        "disclosure_on": "评估日期", "obligations": "公开义务", "status": "状态", "due_on": "截止日期",
        "days_late": "逾期天数", "kind": "类型", "period": "期间",
        "figure": "数字", "value": "金额", "currency": "币种", "month_end": "月末",
        "chart_table": "图表数据", "explanation": "数字说明", "events": "构成此数字的事件",
        "position": "日志位置", "event": "事件", "date": "日期", "amount": "金额", "pledge": "认捐",
        "donor": "捐赠方", "stage": "阶段", "form": "形式", "implementer": "实施机构", "region": "地区",
        "category": "类别", "field": "领域", "planned": "计划期间", "beneficiaries": "受益情况",
        "person_times": "受益人次", "households": "户数", "persons": "人数", "as_of": "截至",
        "disclosures": "信息公开", "published_on": "公开日期", "channel": "渠道", "link": "链接",
        "timeline": "时间线", "in_kind_items": "物资明细", "description": "名称", "quantity": "数量", "unit": "单位",
        "fulfilment_rate": "到位率", "disclosure_record": "信息公开记录", "level": "登记级别",
        "home_region": "所在地", "charity": "慈善组织", "public_fundraising": "公开募捐资格",
        "deregistered_on": "注销日期", "yes": "是", "no": "否", "none": "无",
        "footer_checkpoint": "本页依据的检查点", "footer_digest": "本页报告摘要", "footer_coordinates": "时点坐标",
        "footer_verify": "如何核验这些数字", "signed_note": "签名检查点文件", "built_with": "由 aidledger 生成",
        "origin": "来源", "size": "事件数", "root": "根哈希", "effective_on": "生效日期截至",
        "recorded_before": "记录时间早于", "latest": "最新", "explain_command": "用命令行复算",
        "total": "合计", "sum_check": "上列金额相加等于", "no_events": "没有事件构成此数字。",
        "pledge_events": "每笔认捐的事件", "pledge_events_note": (
            "下面逐笔列出构成本页每个数字的事件：在日志中的位置、事件类型、日期，以及它计入各列的金额（负数表"
            "示冲减）。"
        ),
        "parts": "构成此数字的认捐", "parts_note": (
            "下表列出计入此数字的每一笔认捐及其金额；点击项目名称可以看到这笔认捐的每一个事件（日志位置、类型"
            "、日期、金额）。"
        ),
        "since_note": (
            "这是按月累计的一个点：第一行是上一个点的累计数，其余各行是此后新增的部分，截至"
        ),
        "up_to": "截至上一个点",
        "by_donor_kind": "按捐赠方类型",
        "donor_level": "捐赠方登记级别", "donor_kind": "捐赠方类型",
        "skip": "跳到正文", "count": "数量", "list_of": "列表",
        "synthetic": "",
    },
    "en": {
        "site_title": "Aid ledger · transparency", "overview": "Overview", "whole_ledger": "Whole ledger",
        "campaign": "Campaign", "campaigns": "Campaigns", "counties": "Counties", "county": "County",
        "projects": "Projects", "project": "Project", "organizations": "Organizations",
        "organization": "Organization", "verify": "How to verify", "headline": "Headline figures",
        "new_money_note": "New money, counted once (money regranted from pooled funds is not added)",
        "passed_through": "Passed through pooled funds (shown apart, not added to new money)",
        "in_kind_value": "In-kind value (new money)", "by_category": "By category",
        "by_donor_level": "By donor level", "by_field": "By field", "by_county": "By county",
        "over_time": "Pledged and disbursed (cumulative, at month ends)", "disclosure": "Disclosure compliance",
        "disclosure_on": "Evaluated on", "obligations": "Obligations", "status": "Status", "due_on": "Due on",
        "days_late": "Days late", "kind": "Kind", "period": "Period", "figure": "Figure", "value": "Amount",
        "currency": "Currency", "month_end": "Month end", "chart_table": "Chart data",
        "explanation": "Explanation of a figure", "events": "The events that make up this figure",
        "position": "Log position", "event": "Event", "date": "Date", "amount": "Amount", "pledge": "Pledge",
        "donor": "Donor", "stage": "Stage", "form": "Form", "implementer": "Implementer", "region": "Region",
        "category": "Category", "field": "Field", "planned": "Planned", "beneficiaries": "Beneficiaries",
        "person_times": "Person-times", "households": "Households", "persons": "Persons", "as_of": "As of",
        "disclosures": "Disclosures", "published_on": "Published on", "channel": "Channel", "link": "Link",
        "timeline": "Timeline", "in_kind_items": "In-kind items", "description": "Description", "quantity": "Quantity",
        "unit": "Unit", "fulfilment_rate": "Fulfilment rate (到位率)", "disclosure_record": "Disclosure record",
        "level": "Level", "home_region": "Home region", "charity": "Charity", "public_fundraising":
        "Public fundraising", "deregistered_on": "Deregistered on", "yes": "yes", "no": "no", "none": "none",
        "footer_checkpoint": "Built from checkpoint", "footer_digest": "Report digest of this page",
        "footer_coordinates": "As-of coordinates", "footer_verify": "How to verify these figures",
        "signed_note": "signed checkpoint file", "built_with": "Built by aidledger", "origin": "origin",
        "size": "size", "root": "root", "effective_on": "effective on or before",
        "recorded_before": "recorded before", "latest": "latest", "explain_command": "Recompute on the command line",
        "total": "Total", "sum_check": "The amounts above add up to", "no_events": "No event makes up this figure.",
        "pledge_events": "The events of each pledge",
        "pledge_events_note": (
            "Every event behind this page's figures, pledge b"
            "y pledge: its position in the log, type, date, a"
            "nd what it adds to each column (a negative amoun"
            "t takes away)."
        ),
        "parts": "The pledges that make up this figure",
        "parts_note": (
            "Every pledge counted in this figure, with its am"
            "ount; follow a project's name to that pledge's e"
            "vents (log position, type, date, amount)."
        ),
        "since_note": (
            "This is one point of a cumulative chart: the fir"
            "st row is the previous point's total, the others"
            " what was added after it, up to"
        ),
        "up_to": "Total at the previous point,",
        "by_donor_kind": "By donor kind",
        "donor_level": "Donor level", "donor_kind": "Donor kind",
        "skip": "Skip to content", "count": "Count", "list_of": "List",
        "synthetic": "",
    },
}  # fmt: skip

_VALUES: dict[str, dict[str, str]] = {
    "zh": {
        "intended": "意向", "signed": "签约", "pledged": "认捐（意向+签约）", "withdrawn": "撤回",
        "disbursed": "拨付", "confirmed": "到位（已确认）", "reversed": "冲销", "returned": "退回",
        "net_disbursed": "净拨付", "outstanding": "未拨付", "direct_aid": "直接提供资金物资",
        "capacity": "能力建设（造血式）", "public_welfare": "公益类", "national": "全国性", "provincial": "省级",
        "municipal": "市级", "county": "县级", "industry": "产业", "employment": "就业", "education": "教育",
        "health": "健康", "volunteer": "志愿服务", "relocation": "易地扶贫搬迁", "ecology": "生态",
        "other": "其他", "met": "按时履行", "met_late": "逾期履行", "overdue": "逾期未履行",
        "upcoming": "尚未到期", "due": "到期待履行", "progress": "进展报告", "final": "结项报告",
        "cash": "资金", "in_kind": "物资", "anonymous (匿名)": "匿名", "foundation": "基金会",
        "social_group": "社会团体", "social_service_agency": "社会服务机构", "enterprise": "企业",
        "registered": "已登记", "started": "已开始", "completed": "已完成", "cancelled": "已取消",
        "beneficiaries": "受益情况", "disclosed": "信息公开", "(none)": "无", "(pooled fund)": "资金池",
        "loan": "借款（非捐赠，不计入合计）", "investment": "投资（非捐赠，不计入合计）", "donation": "捐赠",
        "Pledge.Made": "认捐", "Pledge.Signed": "签约", "Pledge.Amended": "变更认捐",
        "Pledge.Withdrawn": "撤回认捐", "Disbursement.Made": "拨付", "Disbursement.Confirmed": "确认到位",
        "Disbursement.Reversed": "冲销拨付", "Disbursement.Returned": "退回",
    },
    "en": {
        "anonymous (匿名)": "anonymous", "net_disbursed": "net disbursed", "direct_aid": "direct aid",
        "public_welfare": "public welfare", "met_late": "met late", "in_kind": "in kind",
        "social_group": "social group", "social_service_agency": "social service agency",
        "loan": "loan (not a donation, not in totals)", "investment": "investment (not a donation, not in totals)",
        "Pledge.Made": "pledge made", "Pledge.Signed": "pledge signed", "Pledge.Amended": "pledge amended",
        "Pledge.Withdrawn": "pledge withdrawn", "Disbursement.Made": "disbursement",
        "Disbursement.Confirmed": "disbursement confirmed", "Disbursement.Reversed": "disbursement reversed",
        "Disbursement.Returned": "money returned",
    },
}  # fmt: skip


def words(lang: str) -> dict[str, str]:
    """Every word of the page templates in ``lang``."""
    return _WORDS[lang]


def label(lang: str, value: str) -> str:
    """The label of a stored value (a column, category, level, status …), or the value itself."""
    return _VALUES[lang].get(value, value.replace("_", " ") if lang == "en" else value)


def place(code: str | None) -> str:
    """A division code with its official name before it (``张北县 (130722)``), or the code alone."""
    if not code:
        return ""
    name = name_of(code)
    return f"{name} ({code})" if name else code
