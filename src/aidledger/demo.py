"""The bundled example: a SYNTHETIC history of a 2018 Beijing-Tianjin-Hebei aid campaign.

Everything here is invented — organizations, names, amounts and dates — and labelled synthetic
wherever it appears. Only its totals are fixed: folded as of 2018-08-31, counting signed and
intended pledges together, they reproduce the figures the campaign reported (DESIGN §9):
403 projects and 446,000,000 yuan, by category and by donor level. Counties are real county
codes of Zhangjiakou, Chengde and Baoding (Hebei). The generator is deterministic (seed 001).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

__all__ = ["AS_OF", "CAMPAIGN", "CELLS", "DISCLOSURE_ON", "EXPECTED", "SEED", "history"]

SEED = 1  # "001"
CAMPAIGN = "jjj-2018"
AS_OF = date(2018, 8, 31)
"""The campaign's reporting date: totals as of this effective date reproduce DESIGN §9."""
DISCLOSURE_ON = date(2018, 12, 31)
RECORDED_BY = "demo-loader (synthetic)"

# (category, donor level) -> (projects, yuan). Rows and columns add up to DESIGN §9's tables.
CELLS: dict[tuple[str, str], tuple[int, int]] = {
    ("direct_aid", "national"): (4, 5_000_000),
    ("capacity", "national"): (8, 25_000_000),
    ("public_welfare", "national"): (6, 20_000_000),
    ("direct_aid", "provincial"): (114, 32_000_000),
    ("capacity", "provincial"): (179, 199_000_000),
    ("public_welfare", "provincial"): (87, 105_000_000),
    ("capacity", "municipal"): (5, 60_000_000),
}

EXPECTED = {
    "category": {"direct_aid": (118, 37_000_000), "capacity": (192, 284_000_000), "public_welfare": (93, 125_000_000)},
    "donor_level": {"national": (18, 50_000_000), "provincial": (380, 336_000_000), "municipal": (5, 60_000_000)},
}
"""DESIGN §9: projects and yuan, counting signed and intended pledges together, as of 2018-08."""

COUNTIES = {
    "130722": "张北县", "130723": "康保县", "130724": "沽源县", "130725": "尚义县", "130726": "蔚县",
    "130727": "阳原县", "130728": "怀安县", "130732": "赤城县", "130821": "承德县", "130822": "兴隆县",
    "130824": "滦平县", "130825": "隆化县", "130826": "丰宁满族自治县", "130827": "宽城满族自治县",
    "130828": "围场满族蒙古族自治县", "130623": "涞水县", "130624": "阜平县", "130627": "唐县",
    "130630": "涞源县", "130631": "望都县", "130633": "易县", "130634": "曲阳县", "130636": "顺平县",
}  # fmt: skip
"""Real GB/T 2260 county codes of Zhangjiakou (1307), Chengde (1308) and Baoding (1306)."""

FIELDS = {
    "direct_aid": ["other", "relocation"],
    "capacity": ["industry", "education", "health", "employment"],
    "public_welfare": ["volunteer", "ecology", "health", "education"],
}
THEMES = ["乡村振兴", "助学", "健康", "产业", "就业", "生态", "关爱", "慈善", "公益", "发展"]
KIND_WORDS = {"foundation": "基金会", "social_group": "协会", "social_service_agency": "服务中心"}
HOME = {"national": "110000", "provincial": "130000"}
MUNICIPAL_HOMES = ["130700", "130800", "130600", "130700", "130800"]


def _credit_code(rng: random.Random, kind: str, home: str) -> str:
    category = {"foundation": "53", "social_group": "51", "social_service_agency": "52"}[kind]
    body = f"{category}{home}{''.join(rng.choice('0123456789ABCDEFGHJKLMNPQRTUWXY') for _ in range(9))}"
    return body + uscc.calc_check_digit(body)


def _split(rng: random.Random, total: int, parts: int, unit: int = 10_000) -> list[int]:
    """Split ``total`` yuan into ``parts`` positive multiples of ``unit`` that add up exactly."""
    units = total // unit
    assert units * unit == total and units >= parts
    weights = [rng.uniform(0.3, 3.0) for _ in range(parts)]
    scale = (units - parts) / sum(weights)
    shares = [1 + int(w * scale) for w in weights]
    for i in range(units - sum(shares)):
        shares[i % parts] += 1
    return [s * unit for s in shares]


class _Builder:
    """Builds the records; every random choice comes from one seeded generator."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.records: list[tuple[date, int, dict[str, Any]]] = []
        self.organizations: dict[str, list[str]] = {"national": [], "provincial": [], "municipal": []}
        self.charities: set[str] = set()

    def add(self, day: date, record: dict[str, Any]) -> None:
        record.setdefault("recorded_by", RECORDED_BY)
        record["effective_on"] = day.isoformat()
        self.records.append((day, len(self.records), record))

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def organization(self, level: str, number: int) -> str:
        kind = self.rng.choice(["foundation", "foundation", "social_group", "social_service_agency"])
        home = MUNICIPAL_HOMES[number] if level == "municipal" else HOME[level]
        prefix = {"national": "中华", "provincial": "河北省", "municipal": "市"}[level]
        command_id = f"org-{level[:3]}-{number:03d}"
        charity = kind == "foundation" or self.rng.random() < 0.2
        fundraising = charity and kind == "foundation" and self.rng.random() < 0.6
        if fundraising:
            self.charities.add(command_id)
        self.add(
            date(2017, 12, 1) + timedelta(days=number % 28),
            {
                "command": "register_organization",
                "command_id": command_id,
                "name": f"{prefix}{self.rng.choice(THEMES)}{KIND_WORDS[kind]}{number:03d}（虚构示例）",
                "kind": kind,
                "level": level,
                "home_region": home,
                "credit_code": _credit_code(self.rng, kind, home),
                "charity": charity,
                "public_fundraising": fundraising,
            },
        )
        self.organizations[level].append(command_id)
        return command_id

    def donors(self) -> None:
        for level, count in (("national", 9), ("provincial", 190), ("municipal", 5)):
            for number in range(count):
                self.organization(level, number)

    def projects(self) -> None:
        number = 0
        counties = sorted(COUNTIES)
        for (category, level), (count, total) in CELLS.items():
            donors = self.organizations[level]
            for index, amount in enumerate(_split(self.rng, total, count)):
                number += 1
                donor = donors[index % len(donors)]
                self.project(number, category, donor, counties[number % len(counties)], amount)

    def project(self, number: int, category: str, donor: str, county: str, amount: int) -> None:
        project_id = f"prj-{number:04d}"
        start = self.day(date(2018, 2, 1), date(2018, 7, 31))
        months = self.rng.choice([4, 6, 9, 12, 12, 18])
        end = min(start + timedelta(days=30 * months), date(2020, 6, 30))
        field = self.rng.choice(FIELDS[category])
        self.add(
            start - timedelta(days=20),
            {
                "command": "register_project",
                "command_id": project_id,
                "title": f"{COUNTIES[county]}{field}帮扶项目{number:04d}（虚构示例）",
                "implementing_organization_id": donor,
                "region": county,
                "category": category,
                "field": field,
                "campaigns": [CAMPAIGN],
                "planned_start": start.isoformat(),
                "planned_end": end.isoformat(),
            },
        )
        self.pledge(number, project_id, donor, category, amount, (start, end))
        self.life(number, project_id, donor, start, end)

    def pledge(
        self, number: int, project_id: str, donor: str, category: str, amount: int, span: tuple[date, date]
    ) -> None:
        start, end = span
        pledge_id = f"pl-{number:04d}"
        made_on = self.day(start - timedelta(days=15), min(start + timedelta(days=10), AS_OF))
        signed = self.rng.random() < 0.75
        in_kind = category == "direct_aid" and self.rng.random() < 0.3
        amended = self.rng.random() < 0.05 and amount > 20_000
        record: dict[str, Any] = {
            "command": "make_pledge",
            "command_id": pledge_id,
            "donor_id": donor,
            "project_id": project_id,
            "amount": str(Decimal(amount - 10_000 if amended else amount)),
            "stage": "signed" if signed else "intended",
            "anonymous": self.rng.random() < 0.03,
        }
        if in_kind:
            record["items"] = [{"description": "冬衣和棉被（虚构）", "quantity": str(amount // 500), "unit": "套"}]
        self.add(made_on, record)
        if amended:
            self.add(
                min(made_on + timedelta(days=20), AS_OF),
                {
                    "command": "amend_pledge",
                    "command_id": f"{pledge_id}-amend",
                    "pledge_id": pledge_id,
                    "amount": str(Decimal(amount)),
                    "reason": "agreement supplement raised the amount (synthetic)",
                },
            )
        if signed:
            self.payments(number, pledge_id, amount, made_on, in_kind)
        elif self.rng.random() < 0.4 and end > date(2018, 12, 15):  # a completed project takes no signature
            self.add(
                self.day(date(2018, 9, 15), date(2018, 12, 15)),
                {"command": "sign_pledge", "command_id": f"{pledge_id}-sign", "pledge_id": pledge_id},
            )

    def payments(self, number: int, pledge_id: str, amount: int, made_on: date, in_kind: bool) -> None:
        paid = _split(self.rng, amount, 2) if amount >= 20_000 else [amount]
        for part, value in enumerate(paid[: self.rng.choice([0, 1, 1, 2])], start=1):
            disbursement_id = f"d-{number:04d}-{part}"
            paid_on = self.day(made_on + timedelta(days=10), made_on + timedelta(days=240))
            self.add(
                paid_on,
                {
                    "command": "disburse",
                    "command_id": disbursement_id,
                    "pledge_id": pledge_id,
                    "amount": str(Decimal(value)),
                    "method": "goods_delivery" if in_kind else "bank_transfer",
                    "source": {"reference": f"RCPT-2018-{number:04d}-{part} (synthetic)"},
                },
            )
            if number % 97 == 0 and part == 1:
                self.add(
                    paid_on + timedelta(days=3),
                    {
                        "command": "reverse_disbursement",
                        "command_id": f"{disbursement_id}-reverse",
                        "disbursement_id": disbursement_id,
                        "reason": "entered twice by mistake (synthetic)",
                    },
                )
            elif self.rng.random() < 0.7:
                self.add(
                    paid_on + timedelta(days=self.rng.randrange(3, 40)),
                    {
                        "command": "confirm_disbursement",
                        "command_id": f"{disbursement_id}-confirm",
                        "disbursement_id": disbursement_id,
                    },
                )

    def life(self, number: int, project_id: str, organization: str, start: date, end: date) -> None:
        self.add(start, {"command": "start_project", "command_id": f"{project_id}-start", "project_id": project_id})
        if self.rng.random() < 0.5:
            self.add(
                self.day(start + timedelta(days=30), start + timedelta(days=200)),
                {
                    "command": "report_beneficiaries",
                    "command_id": f"{project_id}-beneficiaries",
                    "project_id": project_id,
                    "person_times": self.rng.randrange(50, 5000),
                    "households": self.rng.randrange(10, 800),
                },
            )
        if organization in self.charities:
            self.disclosures(project_id, start, end)
        if end <= date(2019, 6, 30) and self.rng.random() < 0.8:
            self.add(
                end, {"command": "complete_project", "command_id": f"{project_id}-complete", "project_id": project_id}
            )

    def disclosures(self, project_id: str, start: date, end: date) -> None:
        period_end = start + timedelta(days=90)
        report = 0
        while period_end < min(end, date(2019, 3, 31)) and self.rng.random() < 0.75:
            report += 1
            published = (
                period_end - timedelta(days=self.rng.randrange(0, 20)) + timedelta(days=self.rng.choice([0, 0, 0, 25]))
            )
            self.add(
                published,
                {
                    "command": "record_disclosure",
                    "command_id": f"{project_id}-progress-{report}",
                    "project_id": project_id,
                    "kind": "progress",
                    "period_start": start.isoformat(),
                    "period_end": min(period_end, published).isoformat(),
                    "channel": "慈善中国 (synthetic)",
                    "url": f"https://example.org/synthetic/{project_id}/{report}",
                },
            )
            period_end += timedelta(days=91)

    def withdrawn_example(self) -> None:
        """One extra project whose only pledge was withdrawn: it counts in no project total."""
        donor = self.organizations["provincial"][0]
        self.add(
            date(2018, 3, 1),
            {
                "command": "register_project",
                "command_id": "prj-withdrawn",
                "title": "撤回示例项目（虚构示例）",
                "implementing_organization_id": donor,
                "region": "130722",
                "category": "capacity",
                "field": "industry",
                "campaigns": [CAMPAIGN],
                "planned_start": "2018-04-01",
                "planned_end": "2018-09-30",
            },
        )
        self.add(
            date(2018, 3, 5),
            {
                "command": "make_pledge",
                "command_id": "pl-withdrawn",
                "donor_id": donor,
                "project_id": "prj-withdrawn",
                "amount": "500000",
                "stage": "intended",
            },
        )
        self.add(
            date(2018, 4, 2),
            {
                "command": "withdraw_pledge",
                "command_id": "pl-withdrawn-withdraw",
                "pledge_id": "pl-withdrawn",
                "reason": "donor's board declined (synthetic)",
            },
        )


def history() -> Iterator[dict[str, Any]]:
    """The synthetic campaign history: command records in the order they are recorded."""
    builder = _Builder()
    builder.donors()
    builder.projects()
    builder.withdrawn_example()
    # Record in effective-date order, as a support organization's clerk would enter them; the
    # build order breaks ties so the history is the same on every run.
    for _, _, record in sorted(builder.records, key=lambda item: (item[0], item[1])):
        yield record
