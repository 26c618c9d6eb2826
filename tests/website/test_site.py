"""The public site, read as files: figures equal the library's reports, every figure explained,
every link resolves, anonymous donors named nowhere, rebuilt incrementally."""

from __future__ import annotations

import re
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.website.conftest import HIDDEN_NAME, HOSTILE_TITLE, HOSTILE_URL, DemoSite

import aidledger
from aidledger import projections
from aidledger.application.references import resolve_reference
from aidledger.audit.checkpoint import make_checkpoint
from aidledger.cli import main
from aidledger.errors import InvalidInput
from aidledger.projections.totals import published_rows
from aidledger.site import MANIFEST, build_site
from aidledger.site.build import _yuan

HEADLINE = ("pledged", "signed", "intended", "net_disbursed", "confirmed", "outstanding")


def _page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def _amount(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def test_headline_figures_equal_the_totals_reports_new_money(demo_site: DemoSite) -> None:
    """The overview's headline is the published total of new money, column for column."""
    with aidledger.open(str(demo_site.db), read_only=True) as ledger:
        report = projections.totals(ledger)
    headline = next(r for r in published_rows(report) if r.kind == "total_new_money" and r.row.currency == "CNY")
    page = _page(demo_site.out / "index.html")
    for column in HEADLINE:
        (cell,) = page.xpath(f'//dl[@data-currency="CNY"]//dd[@data-column="{column}"]')
        assert _amount(cell.text_content()) == headline.figures[column], column
    (projects,) = page.xpath('//dl[@data-currency="CNY"]//dd[@data-column="projects"]')
    assert int(projects.text_content()) == headline.row.projects


def _column_sums(table: lxml.html.HtmlElement, column_header: str) -> tuple[list[Decimal], Decimal]:
    """The amounts of one column of a table (found by its header's text) and its footer's total."""
    headers = [th.text_content() for th in table.xpath("./thead/tr/th")]
    at = headers.index(column_header)
    amounts = []
    for tr in table.xpath("./tbody/tr"):
        cells = tr.xpath("./th|./td")
        span = int(cells[0].get("colspan", "1"))  # the previous point's row spans the first three columns
        text = cells[at - span + 1].text_content()
        amounts.append(_amount(text) if text.strip() else Decimal(0))  # an event feeds only some columns
    (footer,) = table.xpath("./tfoot/tr")
    cells = footer.xpath("./th|./td")
    return amounts, _amount(cells[at - int(cells[0].get("colspan", "1")) + 1].text_content())


def _events_of_pledge(out: Path, href: str) -> lxml.html.HtmlElement:
    path, _, anchor = href.partition("#")
    assert anchor.startswith("pledge-"), href
    (section,) = _page(out / path).xpath(f'//section[@id="{anchor}"]')
    (table,) = section.xpath('.//table[@class="events"]')
    return table


def test_every_overview_figure_links_to_the_pledges_that_add_up_to_it(demo_site: DemoSite) -> None:
    """Each figure of the overview opens its row's page: the value shown there is the figure, the
    pledges listed add up to it, and each pledge's events (on its project's page) add up to its part."""
    page = _page(demo_site.out / "index.html")
    figures = page.xpath('//a[@class="figure"]')
    assert len(figures) > 30
    checked_parts = 0
    for link in figures:
        path, _, column = link.get("href").partition("#")
        shown = _amount(link.text_content())
        explanation = _page(demo_site.out / path)
        (value,) = explanation.xpath(f'//dd[@class="value"][@data-column="{column}"]')
        assert _amount(value.text_content()) == shown == Decimal(value.get("data-value")), path
        assert not explanation.xpath('//*[@class="warning"]')
        (table,) = explanation.xpath('//table[@class="parts"]')
        header = explanation.xpath(f'//dt[@id="{column}"]')[0].text_content()
        amounts, total = _column_sums(table, header)
        assert sum(amounts, Decimal(0)) == total == shown, path
        previous = table.xpath('./tbody/tr[@class="previous"]')
        if previous or checked_parts > 200:
            continue
        for row, amount in zip(table.xpath("./tbody/tr"), amounts, strict=True):
            events = _events_of_pledge(demo_site.out, row.xpath("./th/a/@href")[0].removeprefix("../"))
            event_amounts, event_total = _column_sums(events, header)
            assert sum(event_amounts, Decimal(0)) == event_total == amount
            checked_parts += 1
    assert checked_parts > 100


def test_a_project_page_explains_its_figures_by_its_pledges_and_their_events(demo_site: DemoSite) -> None:
    """On every project page: each pledge's figures link to its section of events, which add up to them;
    the project's totals link to its table of pledges, whose donations add up to them."""
    pages = sorted((demo_site.out / "project").glob("*.html"))
    assert len(pages) > 20
    for path in pages:
        page = _page(path)
        (pledges,) = page.xpath('//table[@class="pledges"]')
        headers = [th.text_content() for th in pledges.xpath("./thead/tr/th")]
        for row in pledges.xpath("./tbody/tr"):
            for link in row.xpath('.//a[@class="figure"]'):
                events = _events_of_pledge(demo_site.out, link.get("href").removeprefix("../"))
                at = row.xpath("./th|./td").index(link.getparent())
                amounts, total = _column_sums(events, headers[at])
                assert sum(amounts, Decimal(0)) == total == _amount(link.text_content()), (path, headers[at])
        for link in page.xpath('//table[@class="stages"]//a[@class="figure"]'):
            assert link.get("href") == f"../project/{path.name}#pledges"
        for currency_row in page.xpath('//table[@class="stages"]/tbody/tr'):
            currency = currency_row.xpath("./th")[0].text_content()
            figures = [_amount(a.text_content()) for a in currency_row.xpath('.//a[@class="figure"]')]
            donations = [
                [_amount(td.text_content()) for td in r.xpath('./td[@class="num"]')]
                for r in pledges.xpath("./tbody/tr")
                if r.xpath("./td")[2].text_content() == currency and "·" not in r.xpath("./td")[1].text_content()
            ]
            assert [sum(column, Decimal(0)) for column in zip(*donations, strict=True)] == figures, path


def test_every_chart_has_its_data_table(demo_site: DemoSite) -> None:
    """Every SVG chart has a title, a description and a table of its figures beside it."""
    for path in (demo_site.out / "index.html", *sorted((demo_site.out / "county").glob("*.html"))[:3]):
        page = _page(path)
        charts = page.xpath("//svg")
        assert charts
        for chart in charts:
            assert chart.xpath("./title") and chart.xpath("./desc")
            assert page.xpath(f'//table[@data-chart="{chart.get("id")}"]')


def _local_links(path: Path) -> list[str]:
    return [
        value
        for value in _page(path).xpath("//a/@href | //link/@href | //img/@src | //script/@src")
        if not urlsplit(value).scheme and not value.startswith("#")
    ]


def test_every_file_links_only_to_files_of_the_site_and_never_names_an_anonymous_donor(demo_site: DemoSite) -> None:
    """Walk every generated file: local links resolve inside the folder; the anonymous-only donor's
    name, id and credit code appear nowhere (pages, explanations, chart labels)."""
    out = demo_site.out.resolve()
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 500
    ids: dict[Path, set[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert HIDDEN_NAME not in text, path
        assert demo_site.hidden_id not in text, path
        if path.suffix != ".html":
            continue
        for href in _local_links(path):
            target = (path.parent / unquote(urlsplit(href).path)).resolve()
            assert target.is_file() and target.is_relative_to(out), (path, href)
            if urlsplit(href).fragment:  # a figure's section of events, or its column on its row's page
                if target not in ids:
                    ids[target] = set(_page(target).xpath("//@id"))
                assert urlsplit(href).fragment in ids[target], (path, href)


def test_hostile_text_is_escaped_and_a_script_url_is_not_a_link(demo_site: DemoSite) -> None:
    """A title holding markup shows as text; a URL with quotes stays one attribute's value."""
    path = demo_site.out / "project" / f"{demo_site.hostile_project}.html"
    page = _page(path)
    assert page.xpath("//h1")[0].text_content() == HOSTILE_TITLE
    assert not page.xpath("//script")
    assert HOSTILE_URL in page.xpath("//a/@href")
    assert not page.xpath("//*[@onmouseover]")
    assert "匿名" in page.text_content()


def test_pages_are_rewritten_only_when_they_change(demo_site: DemoSite, tmp_path: Path) -> None:
    """A second build of the same ledger writes nothing (every page and style.css unchanged), and a
    file the last build wrote that is no longer built is removed."""
    out = tmp_path / "site"
    shutil.copytree(demo_site.out, out)
    stale = out / "county" / "999999.html"
    stale.write_text("old")
    (out / MANIFEST).write_text((out / MANIFEST).read_text() + "county/999999.html\n")
    with aidledger.open(str(demo_site.db), read_only=True) as ledger:
        again = build_site(ledger, out, on="2018-12-31")
    assert (again.written, again.removed, again.mismatched) == (0, 1, ())
    assert again.unchanged == again.pages + 1 and not stale.exists()
    assert 0 < again.rendered < again.pages // 10  # the overviews and lists; every other page was reused


def _grown_copy(demo_site: DemoSite, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the demo ledger with one more event (a disbursement to the hostile project's first
    pledge), and a copy of its built site."""
    db = tmp_path / "grown.db"
    with sqlite3.connect(demo_site.db) as source, sqlite3.connect(db) as target:
        source.backup(target)
    out = tmp_path / "site"
    shutil.copytree(demo_site.out, out)
    with aidledger.open(str(db), recorded_by="site-tests") as ledger:
        pledge = resolve_reference("pledge", "test-hidden-pledge-0")
        ledger.disburse(command_id="test-one-more", pledge_id=pledge, amount="1.00",
                        effective_on="2018-11-20")  # fmt: skip
    return db, out


def _bodies(out: Path) -> dict[str, bytes]:
    """Every file of a site, each page up to its footer (what it shows, without the checkpoint)."""
    found = {}
    for path in out.rglob("*"):
        if path.is_file() and path.name != MANIFEST:
            data = path.read_bytes()
            found[str(path.relative_to(out))] = data[: data.find(b"<footer")] if path.suffix == ".html" else data
    return found


def test_after_a_new_event_only_the_pages_it_changes_are_written(demo_site: DemoSite, tmp_path: Path) -> None:
    """One more disbursement: the pages whose figures it changes are rewritten and name the new
    checkpoint; every other page is left as it was, naming the earlier checkpoint, which the ledger
    extends; and what every page shows is what a fresh build shows."""
    db, out = _grown_copy(demo_site, tmp_path)
    project = out / "project" / f"{demo_site.hostile_project}.html"
    other = next(p for p in sorted((out / "project").glob("*.html")) if p != project)
    before = other.read_bytes()
    old_size = int(_page(other).xpath('//footer//code[@class="size"]')[0].text_content())
    old_root = _page(other).xpath('//footer//code[@class="root"]')[0].text_content()
    with aidledger.open(str(db), read_only=True) as ledger:
        grown = build_site(ledger, out, on="2018-12-31")
        fresh = build_site(ledger, tmp_path / "fresh", on="2018-12-31")
        assert make_checkpoint(ledger, size=old_size)[0].root == old_root
    assert grown.mismatched == () and grown.checkpoint.size > old_size
    assert 0 < grown.written <= grown.rendered < grown.pages // 4, (grown.written, grown.rendered, grown.pages)
    assert grown.written + grown.unchanged == grown.pages + 1 and grown.removed == 0
    assert int(_page(project).xpath('//footer//code[@class="size"]')[0].text_content()) == grown.checkpoint.size
    assert other.read_bytes() == before
    assert _bodies(out) == _bodies(tmp_path / "fresh")
    assert fresh.digest == grown.digest
    with aidledger.open(str(db), read_only=True) as ledger:  # other settings: every page is rebuilt
        again = build_site(ledger, out, on="2019-01-31")
    assert again.written == again.pages + 1 and again.unchanged == 0


def test_a_folder_holding_other_files_is_refused(tmp_path: Path, demo_site: DemoSite) -> None:
    """The site is never written over a folder it did not write."""
    (tmp_path / "notes.txt").write_text("mine")
    with aidledger.open(str(demo_site.db), read_only=True) as ledger, pytest.raises(InvalidInput, match="--out"):
        build_site(ledger, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_english_site_and_a_copied_checkpoint_note(demo_site: DemoSite, tmp_path: Path) -> None:
    """``--lang en`` writes English pages; ``--checkpoint`` copies the file and every footer links it."""
    note = tmp_path / "ledger.checkpoint"
    assert main(["--db", str(demo_site.db), "checkpoint", "--out", str(note)]) == 0
    out = tmp_path / "en"
    assert main(["--db", str(demo_site.db), "site", "--out", str(out), "--lang", "en", "--on", "2018-12-31",
                 "--checkpoint", str(note)]) == 0  # fmt: skip
    page = _page(out / "index.html")
    assert page.get("lang") == "en" and page.xpath("//h2")[0].text_content() == "Headline figures"
    assert (out / "checkpoint" / "ledger.checkpoint").read_bytes() == note.read_bytes()
    assert page.xpath('//footer//a[@href="checkpoint/ledger.checkpoint"]')
    (root,) = page.xpath('//footer//code[@class="root"]')
    assert re.fullmatch("[0-9a-f]{64}", root.text_content())
    assert root.text_content() in note.read_text()


def test_a_loan_is_shown_on_its_line_and_added_to_no_total_and_every_figure_matches_its_explanation(
    tmp_path: Path,
) -> None:
    """A loan beside a donation: the project's totals are the donation's, the loan's line says it is not
    a donation, and no explanation differs from the figure it explains (DESIGN §3 rule 8)."""
    with aidledger.open(str(tmp_path / "loan.db"), recorded_by="site-tests") as ledger:
        organization = ledger.register_organization(
            command_id="o", name="示例基金会（测试）", kind="foundation", level="provincial", home_region="130000",
            effective_on="2018-01-05",
        ).aggregate_id  # fmt: skip
        project = ledger.register_project(
            command_id="p", title="示例项目（测试）", implementing_organization_id=organization, region="130722",
            category="capacity", field="industry", planned_start="2018-03-01", planned_end="2018-12-31",
            effective_on="2018-02-01",
        ).aggregate_id  # fmt: skip
        for command_id, amount, flow in (("gift", "100.00", "donation"), ("loan", "900.00", "loan")):
            ledger.make_pledge(command_id=command_id, donor_id=organization, project_id=project, amount=amount,
                               stage="signed", flow=flow, effective_on="2018-02-10")  # fmt: skip
        result = build_site(ledger, tmp_path / "site", on="2018-12-31")
    assert result.mismatched == ()
    page = _page(tmp_path / "site" / "project" / f"{project}.html")
    (pledged,) = page.xpath('//table[@class="stages"]/tbody/tr/td[1]')
    assert _amount(pledged.text_content()) == Decimal("100.00")
    loan_rows = [row for row in page.xpath('//table[@class="pledges"]/tbody/tr') if "借款" in row.text_content()]
    assert len(loan_rows) == 1 and "900.00" in loan_rows[0].text_content()


@given(st.integers(min_value=-(10**22), max_value=10**22))
def test_amounts_are_shown_exactly_as_a_decimal_would_show_them(cents: int) -> None:
    """The site writes money from hundredths without a Decimal, and exactly as a Decimal's ``,.2f`` would."""
    assert _yuan(cents) == f"{Decimal(cents).scaleb(-2):,.2f}"
