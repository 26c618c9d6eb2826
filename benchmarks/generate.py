"""Deterministic SYNTHETIC histories for the benchmarks, as command records.

Every record is a plain dict in the format of :func:`aidledger.interchange.commands.run_command`
(``{"command": "make_pledge", "command_id": ..., ...}``), references given by command id. All
organizations, names, amounts, dates and county codes are invented and labelled synthetic: names
end in "（虚构示例）", evidence references say "(synthetic)", and every record is recorded by
``bench-generator (synthetic)``. County codes have the shape of GB/T 2260 codes (a real
provincial prefix, then made-up city and county digits).

Two scales:

- ``campaign``: 6,300 organizations and 5,367 projects over 2018-2020 (about 70,000 events);
- ``national``: 100,000 organizations and 72,000 projects over 2016-2025 (over 1,000,000 events).

``--factor`` scales both numbers for a quick try. The proportions per project (the constants
below) are the same at every scale: 1.67 pledges on average, 80% of them signed when made, 1.5
disbursements per signed pledge, 75% of disbursements confirmed, 1% reversed, 0.5% partly
returned, beneficiaries reported about once, progress reports every quarter (fundraising
charities) or half-year (other charities) plus a final report, 2% of projects cancelled.

Records come in effective-date order; a record never precedes one it depends on (each dependent
is dated on or after what it depends on and built after it, and ties keep build order), so the
whole history imports without a refusal. Same scale and seed, same records, on every machine.

    .venv/bin/python -m benchmarks.generate --scale campaign --out bench-output/campaign.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from stdnum.cn import uscc

__all__ = [
    "CAMPAIGN",
    "EVENTS_PER_COMMAND",
    "NATIONAL",
    "RECORDED_BY",
    "SCALES",
    "Scale",
    "history",
    "stored_events",
    "summary",
    "write_jsonl",
]

RECORDED_BY = "bench-generator (synthetic)"


@dataclass(frozen=True)
class Scale:
    """How big a history is, the period it covers, and the seed that makes it."""

    name: str
    organizations: int
    projects: int
    first_day: date
    last_day: date
    seed: int

    def times(self, factor: float) -> Scale:
        """The same history shape with ``factor`` times the organizations and projects."""
        if factor == 1:
            return self
        return replace(
            self,
            name=f"{self.name}-x{factor:g}",
            organizations=max(20, round(self.organizations * factor)),
            projects=max(10, round(self.projects * factor)),
        )


CAMPAIGN = Scale("campaign", 6_300, 5_367, date(2018, 1, 1), date(2020, 12, 31), seed=2018)
NATIONAL = Scale("national", 100_000, 72_000, date(2016, 1, 1), date(2025, 12, 31), seed=2016)
SCALES = {"campaign": CAMPAIGN, "national": NATIONAL}

EVENTS_PER_COMMAND = {"disburse": 2, "reverse_disbursement": 2, "return_disbursement": 2}
"""Events a command stores besides the usual one (the disbursement event and the pledge's twin).
The generator makes no regrants, so ``make_pledge`` and ``amend_pledge`` store one event each."""

# -- proportions ---------------------------------------------------------------------------------

PLEDGES_PER_PROJECT = (1, 1, 1, 2, 2, 3)
PAYMENTS_PER_SIGNED_PLEDGE = (0, 1, 1, 2, 2, 3)
SIGNED_WHEN_MADE = 0.80
SIGNED_LATER = 0.50  # of intended pledges
WITHDRAWN = 0.10  # of intended pledges
AMENDED = 0.04
THROUGH_CHANNEL = 0.10
IN_KIND = 0.10
ANONYMOUS = 0.02
FULLY_PAID = 0.60
CONFIRMED = 0.75
REVERSED = 0.01
RETURNED = 0.005
CANCELLED = 0.02
UPDATED_ORGANIZATIONS = 0.05
DEREGISTERED_ORGANIZATIONS = 0.005
BENEFICIARY_REPORTS = (0, 1, 1, 2)

KINDS = ("foundation", "social_group", "social_service_agency", "enterprise")
KIND_WEIGHTS = (30, 35, 30, 5)
KIND_WORDS = {"foundation": "基金会", "social_group": "协会", "social_service_agency": "服务中心", "enterprise": "公司"}
LEVELS = ("national", "provincial", "municipal", "county")
LEVEL_WEIGHTS = (2, 25, 40, 33)
CATEGORIES = ("direct_aid", "capacity", "public_welfare")
CATEGORY_WEIGHTS = (20, 55, 25)
FIELDS = {
    "direct_aid": ("other", "relocation"),
    "capacity": ("industry", "education", "health", "employment"),
    "public_welfare": ("volunteer", "ecology", "health", "education"),
}
THEMES = ("乡村振兴", "助学", "健康", "产业", "就业", "生态", "关爱", "慈善", "公益", "发展")
RECIPIENT_PROVINCES = (
    *("13", "14", "15", "22", "23", "34", "36", "41", "42", "43", "45"),
    *("46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"),
)
DONOR_PROVINCES = ("11", "12", "31", "32", "33", "35", "37", "44", *RECIPIENT_PROVINCES)
POOR_COUNTIES = 832
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _counties(rng: random.Random) -> list[str]:
    """832 county codes: a real provincial prefix, made-up city and county digits."""
    shapes = [
        f"{province}{city:02d}{county:02d}"
        for province in RECIPIENT_PROVINCES
        for city in range(1, 13)
        for county in range(21, 33)
    ]
    return sorted(rng.sample(shapes, POOR_COUNTIES))


def _iso(day: int) -> str:
    return date.fromordinal(day).isoformat()


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` positive whole amounts that add up exactly."""
    if parts == 1:
        return [total]
    weights = [rng.uniform(0.5, 2.0) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    shares = [1 + int(weight * scale) for weight in weights]
    shares[-1] += total - sum(shares)
    return shares


class _Builder:
    """Builds the records of one scale; every random choice comes from one seeded generator."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.rng = random.Random(scale.seed)
        self.first = scale.first_day.toordinal()
        self.last = scale.last_day.toordinal()
        self.records: list[tuple[int, int, dict[str, Any]]] = []
        self.charity: list[bool] = []
        self.fundraising: list[bool] = []
        self.counties = _counties(self.rng)

    def add(self, day: int, record: dict[str, Any]) -> None:
        """Keep a record dated within the period. A dependent is never dated before what it
        depends on, so dropping what falls after the period never orphans a kept record."""
        if day > self.last:
            return
        record["recorded_by"] = RECORDED_BY
        record["effective_on"] = _iso(day)
        self.records.append((day, len(self.records), record))

    def organization_id(self, number: int) -> str:
        return f"org-{number:06d}"

    def any_organization(self) -> str:
        return self.organization_id(self.rng.randrange(self.scale.organizations))

    def donor(self) -> str:
        """Donors are skewed: a few large foundations give most pledges."""
        return self.organization_id(int(self.scale.organizations * self.rng.random() ** 3))

    # -- organizations ----------------------------------------------------------------------------

    def organizations(self) -> None:
        rng = self.rng
        for number in range(self.scale.organizations):
            kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
            level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
            home = self.home_region(level)
            charity = kind == "foundation" or (kind != "enterprise" and rng.random() < 0.2)
            fundraising = charity and kind == "foundation" and rng.random() < 0.5
            self.charity.append(charity)
            self.fundraising.append(fundraising)
            record: dict[str, Any] = {
                "command": "register_organization",
                "command_id": self.organization_id(number),
                "name": f"{rng.choice(THEMES)}{KIND_WORDS[kind]}{number:06d}（虚构示例）",
                "kind": kind,
                "level": level,
                "home_region": home,
                "charity": charity,
                "public_fundraising": fundraising,
            }
            if kind != "enterprise":
                record["credit_code"] = self.credit_code(kind, home)
            self.add(self.first + number % 30, record)  # the registry is loaded in its first month

    def home_region(self, level: str) -> str:
        province = self.rng.choice(DONOR_PROVINCES)
        city = self.rng.randint(1, 12)
        return {
            "national": "110000",
            "provincial": f"{province}0000",
            "municipal": f"{province}{city:02d}00",
            "county": f"{province}{city:02d}{self.rng.randint(21, 32):02d}",
        }[level]

    def credit_code(self, kind: str, home: str) -> str:
        category = {"foundation": "53", "social_group": "51", "social_service_agency": "52"}[kind]
        body = category + home + "".join(self.rng.choices(CREDIT_CODE_ALPHABET, k=9))
        return body + str(uscc.calc_check_digit(body))

    def organization_changes(self) -> None:
        """Some organizations change their profile; a few are deregistered on the last day."""
        rng = self.rng
        for number in range(self.scale.organizations):
            if rng.random() < UPDATED_ORGANIZATIONS:
                day = rng.randint(self.first + 30, self.last - 1)
                record: dict[str, Any] = {
                    "command": "update_organization",
                    "command_id": f"{self.organization_id(number)}-update",
                    "organization_id": self.organization_id(number),
                }
                if self.charity[number] and not self.fundraising[number]:
                    record |= {"public_fundraising": True, "public_fundraising_from": _iso(day)}
                else:
                    record["name"] = f"{rng.choice(THEMES)}促进会{number:06d}（虚构示例，更名）"
                self.add(day, record)
        for number in range(self.scale.organizations):
            if rng.random() < DEREGISTERED_ORGANIZATIONS:
                self.add(
                    self.last,  # after all of its activity: built last, dated last
                    {
                        "command": "deregister_organization",
                        "command_id": f"{self.organization_id(number)}-deregister",
                        "organization_id": self.organization_id(number),
                        "reason": "dissolved by its members (synthetic)",
                    },
                )

    # -- projects ---------------------------------------------------------------------------------

    def projects(self) -> None:
        for number in range(1, self.scale.projects + 1):
            self.project(number)

    def project(self, number: int) -> None:
        rng = self.rng
        project_id = f"prj-{number:06d}"
        registered = rng.randint(self.first + 30, self.last - 30)
        start = registered + rng.randint(5, 40)
        end = start + 30 * rng.choice((6, 9, 12, 12, 18, 24, 36))
        implementer = rng.randrange(self.scale.organizations)
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        field = rng.choice(FIELDS[category])
        county = rng.choice(self.counties)
        self.add(
            registered,
            {
                "command": "register_project",
                "command_id": project_id,
                "title": f"{county}{field}帮扶项目{number:06d}（虚构示例）",
                "implementing_organization_id": self.organization_id(implementer),
                "region": county,
                "category": category,
                "field": field,
                "campaigns": [self.scale.name.split("-")[0]],
                "planned_start": _iso(start),
                "planned_end": _iso(end),
            },
        )
        cancelled = rng.random() < CANCELLED
        last_withdrawal = registered
        for index in range(1, rng.choice(PLEDGES_PER_PROJECT) + 1):
            pledge_id = f"pl-{number:06d}-{index}"
            made = rng.randint(registered, start + 60)
            if cancelled:
                last_withdrawal = max(last_withdrawal, self.withdrawn_pledge(pledge_id, project_id, made))
            else:
                self.pledge(pledge_id, project_id, made, category)
        if cancelled:
            self.cancelled(project_id, start, last_withdrawal)
        else:
            self.life(project_id, implementer, start, end)

    def pledge_record(self, pledge_id: str, project_id: str, stage: str, in_kind: bool) -> tuple[dict[str, Any], int]:
        rng = self.rng
        amount = min(50_000_000, max(1_000, 100 * round(math.exp(rng.gauss(12.2, 1.3)) / 100)))
        record: dict[str, Any] = {
            "command": "make_pledge",
            "command_id": pledge_id,
            "donor_id": self.donor(),
            "project_id": project_id,
            "amount": f"{amount}.00",
            "stage": stage,
        }
        if rng.random() < THROUGH_CHANNEL:
            record["channel_id"] = self.any_organization()
        if in_kind:
            quantity = str(max(1, amount // 500))
            record["items"] = [{"description": "冬衣和棉被（虚构）", "quantity": quantity, "unit": "套"}]
        if rng.random() < ANONYMOUS:
            record["anonymous"] = True
        return record, amount

    def withdrawn_pledge(self, pledge_id: str, project_id: str, made: int) -> int:
        """A pledge to a project that is called off: intended, then withdrawn."""
        record, _ = self.pledge_record(pledge_id, project_id, "intended", in_kind=False)
        self.add(made, record)
        withdrawn = made + self.rng.randint(10, 60)
        self.add(withdrawn, self.withdrawal(pledge_id))
        return withdrawn

    @staticmethod
    def withdrawal(pledge_id: str) -> dict[str, Any]:
        return {
            "command": "withdraw_pledge",
            "command_id": f"{pledge_id}-withdraw",
            "pledge_id": pledge_id,
            "reason": "the donor's board declined (synthetic)",
        }

    def pledge(self, pledge_id: str, project_id: str, made: int, category: str) -> None:
        rng = self.rng
        signed = rng.random() < SIGNED_WHEN_MADE
        in_kind = category == "direct_aid" and rng.random() < IN_KIND * 3
        record, amount = self.pledge_record(pledge_id, project_id, "signed" if signed else "intended", in_kind)
        self.add(made, record)
        ready = made
        if rng.random() < AMENDED:
            ready = made + rng.randint(1, 20)
            amount += max(100, 100 * (amount // 1000))
            self.add(
                ready,
                {
                    "command": "amend_pledge",
                    "command_id": f"{pledge_id}-amend",
                    "pledge_id": pledge_id,
                    "amount": f"{amount}.00",
                    "reason": "an agreement supplement raised the amount (synthetic)",
                },
            )
        if not signed:
            chance = rng.random()
            if chance < WITHDRAWN:
                self.add(ready + rng.randint(10, 60), self.withdrawal(pledge_id))
                return
            if chance >= WITHDRAWN + SIGNED_LATER:
                return
            ready += rng.randint(10, 90)  # before the project ends: it ends 180+ days after start
            self.add(ready, {"command": "sign_pledge", "command_id": f"{pledge_id}-sign", "pledge_id": pledge_id})
        self.payments(pledge_id, amount, ready, in_kind)

    def payments(self, pledge_id: str, amount: int, after: int, in_kind: bool) -> None:
        rng = self.rng
        parts = rng.choice(PAYMENTS_PER_SIGNED_PLEDGE)
        if parts == 0:
            return
        paid = amount if rng.random() < FULLY_PAID else max(parts, int(amount * rng.uniform(0.5, 0.9)))
        day = after
        for part, value in enumerate(_split(rng, paid, parts), start=1):
            day += rng.randint(5, 120)
            disbursement_id = f"d-{pledge_id[3:]}-{part}"
            self.add(
                day,
                {
                    "command": "disburse",
                    "command_id": disbursement_id,
                    "pledge_id": pledge_id,
                    "amount": f"{value}.00",
                    "method": "goods_delivery" if in_kind else "bank_transfer",
                    "source": {"reference": f"RCPT-{disbursement_id} (synthetic)"},
                },
            )
            self.aftermath(disbursement_id, day, value)

    def aftermath(self, disbursement_id: str, paid_on: int, value: int) -> None:
        rng = self.rng
        if rng.random() < REVERSED:
            self.add(
                paid_on + rng.randint(1, 10),
                {
                    "command": "reverse_disbursement",
                    "command_id": f"{disbursement_id}-reverse",
                    "disbursement_id": disbursement_id,
                    "reason": "entered twice by mistake (synthetic)",
                },
            )
            return
        if rng.random() < CONFIRMED:
            self.add(
                paid_on + rng.randint(3, 40),
                {
                    "command": "confirm_disbursement",
                    "command_id": f"{disbursement_id}-confirm",
                    "disbursement_id": disbursement_id,
                },
            )
        if rng.random() < RETURNED:
            self.add(
                paid_on + rng.randint(30, 120),
                {
                    "command": "return_disbursement",
                    "command_id": f"{disbursement_id}-return",
                    "disbursement_id": disbursement_id,
                    "amount": f"{max(1, value // 10)}.00",
                    "reason": "unspent balance given back (synthetic)",
                },
            )

    def life(self, project_id: str, implementer: int, start: int, end: int) -> None:
        rng = self.rng
        self.add(start, {"command": "start_project", "command_id": f"{project_id}-start", "project_id": project_id})
        person_times = 0
        for report in range(1, rng.choice(BENEFICIARY_REPORTS) + 1):
            person_times += rng.randrange(50, 5000)
            self.add(
                start + report * min(150, (end - start) // 3),
                {
                    "command": "report_beneficiaries",
                    "command_id": f"{project_id}-beneficiaries-{report}",
                    "project_id": project_id,
                    "person_times": person_times,
                    "households": person_times // 4,
                },
            )
        if self.charity[implementer]:
            self.disclosures(project_id, start, end, every=91 if self.fundraising[implementer] else 182)
        self.add(end, {"command": "complete_project", "command_id": f"{project_id}-complete", "project_id": project_id})

    def disclosures(self, project_id: str, start: int, end: int, every: int) -> None:
        rng = self.rng
        period_end, report = start + every, 0
        while period_end < end:
            report += 1
            published = period_end + rng.randint(0, 30)
            self.add(published, self.disclosure(project_id, report, "progress", start, period_end))
            period_end += every
        self.add(end + rng.randint(20, 120), self.disclosure(project_id, report + 1, "final", start, end))

    @staticmethod
    def disclosure(project_id: str, report: int, kind: str, start: int, end: int) -> dict[str, Any]:
        return {
            "command": "record_disclosure",
            "command_id": f"{project_id}-{kind}-{report}",
            "project_id": project_id,
            "kind": kind,
            "period_start": _iso(start),
            "period_end": _iso(end),
            "channel": "慈善中国 (synthetic)",
            "url": f"https://example.org/synthetic/{project_id}/{report}",
        }

    def cancelled(self, project_id: str, start: int, last_withdrawal: int) -> None:
        cancelled_on = last_withdrawal + self.rng.randint(1, 30)
        if start < cancelled_on:
            self.add(start, {"command": "start_project", "command_id": f"{project_id}-start", "project_id": project_id})
        self.add(
            cancelled_on,
            {
                "command": "cancel_project",
                "command_id": f"{project_id}-cancel",
                "project_id": project_id,
                "reason": "the county merged it into another programme (synthetic)",
            },
        )


def history(scale: Scale) -> list[dict[str, Any]]:
    """The SYNTHETIC history of ``scale``: command records in the order they are recorded."""
    builder = _Builder(scale)
    builder.organizations()
    builder.projects()
    builder.organization_changes()
    builder.records.sort(key=lambda item: (item[0], item[1]))
    return [record for _, _, record in builder.records]


def stored_events(records: Iterable[dict[str, Any]]) -> int:
    """How many events importing ``records`` stores."""
    return sum(EVENTS_PER_COMMAND.get(record["command"], 1) for record in records)


def summary(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Records per command, with the totals of records and events."""
    counts = Counter(record["command"] for record in records)
    return {**dict(counts.most_common()), "records": len(records), "events": stored_events(records)}


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> None:
    """Write records as JSON Lines (``aidledger import`` reads this)."""
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Print a history's counts, and write it as JSON Lines when asked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="campaign")
    parser.add_argument("--factor", type=float, default=1.0, help="multiply organizations and projects")
    parser.add_argument("--out", type=Path, help="write the records here as JSON Lines")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale].times(args.factor)
    records = history(scale)
    print(f"{scale.name} (SYNTHETIC): {scale.organizations:,} organizations, {scale.projects:,} projects")
    for name, count in summary(records).items():
        print(f"  {name:<24} {count:>10,}")
    if args.out is not None:
        write_jsonl(records, args.out)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
