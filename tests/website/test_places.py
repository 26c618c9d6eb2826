"""County names from the vendored division code list stand beside their codes on the site."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from tests.website.conftest import DemoSite

from aidledger.site.labels import place


def _page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def _texts(page: lxml.html.HtmlElement, query: str) -> list[str]:
    return [element.text_content() for element in page.xpath(query) if isinstance(element, lxml.html.HtmlElement)]


def test_a_known_code_shows_its_name_and_an_unknown_one_shows_the_code_alone() -> None:
    """张北县 is 130722 in the ministry's list; 999999 is in no vintage; no code gives nothing."""
    assert place("130722") == "张北县 (130722)"
    assert place("999999") == "999999"
    assert place(None) == place("") == ""


def test_county_pages_charts_and_lists_name_the_county(demo_site: DemoSite) -> None:
    """The county page's heading, the overview's county chart (labels and table) and the project
    list all show the name before the code."""
    assert _texts(_page(demo_site.out / "county" / "130722.html"), "//h1") == ["张北县 (130722)"]
    overview = _page(demo_site.out / "index.html")
    (chart,) = _texts(overview, '//svg[@id="chart-county"]')
    assert "张北县 (130722)" in chart
    assert _texts(overview, '//table[@data-chart="chart-county"]//a[@href="county/130722.html"]') == ["张北县 (130722)"]
    assert "张北县 (130722)" in _texts(_page(demo_site.out / "projects.html"), '//a[@href="county/130722.html"]')
