"""The demo site in a real browser: headless Chromium (Debian's ``chromium``) driven by playwright.

Skipped when Chromium is missing, unless ``AIDLEDGER_REQUIRE_BROWSER=1`` (as .ci/run sets), which
turns the skip into a failure. Playwright's own browsers are never downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from tests.website.conftest import DemoSite

import aidledger
from aidledger import projections
from aidledger.projections.totals import published_rows

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("AIDLEDGER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
"""Without the background-networking flags Chromium tries to reach Google's services at start."""
WIDTHS = {"desktop": 1280, "phone": 390}


def _required() -> bool:
    return os.environ.get("AIDLEDGER_REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"a browser is required (AIDLEDGER_REQUIRE_BROWSER=1) but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium, shared by this module's tests."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} not found (install Debian's chromium: .ci/install-chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Visit:
    """A page opened in the browser, with every request it made and every console error it logged."""

    def __init__(self, browser: Browser, url: str, width: int) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page: Page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route("http*://**", lambda route: route.abort())  # nothing may leave the folder
        self.page.goto(url)

    def close(self) -> None:
        self.page.close()


def _pages(site: DemoSite) -> dict[str, Path]:
    county = site.out / "county" / "130722.html"
    return {
        "overview": site.out / "index.html",
        "county": county,
        "project": next(p for p in sorted((site.out / "project").glob("*.html")) if site.hostile_project not in p.name),
    }


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("name", ["overview", "county", "project"])
def test_page_renders_offline_without_errors_and_fits_the_width(
    browser: Browser, demo_site: DemoSite, tmp_path: Path, name: str, width: str
) -> None:
    """Each page loads with no console error and no request outside its folder, every chart has its
    table, every figure's explanation link resolves to a file, and a phone needs no sideways scroll."""
    path = _pages(demo_site)[name]
    visit = Visit(browser, path.as_uri(), WIDTHS[width])
    try:
        visit.page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
        assert visit.errors == []
        root = demo_site.out.resolve().as_uri() + "/"
        assert visit.requests and all(url.startswith(root) for url in visit.requests), visit.requests
        for chart in visit.page.locator("svg.chart").all():
            chart_id = chart.get_attribute("id")
            assert visit.page.locator(f'table[data-chart="{chart_id}"] tbody tr').count() >= 1, chart_id
            assert chart.locator("title").count() >= 1
        hrefs = visit.page.eval_on_selector_all("a.figure", "links => links.map(a => a.href)")
        assert hrefs
        for href in hrefs:
            target = href.removeprefix("file://").partition("#")[0]
            assert href.startswith(root) and Path(target).is_file(), href
        overflow = visit.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width} scrolls sideways by {overflow}px"
    finally:
        visit.close()


def test_headline_in_the_browser_equals_the_librarys_report(browser: Browser, demo_site: DemoSite) -> None:
    """The rendered headline figures are the report's new money; following one shows the pledges that
    make it up, and following a pledge shows its events, scrolled into view."""
    with aidledger.open(str(demo_site.db), read_only=True) as ledger:
        report = projections.totals(ledger)
    headline = next(r for r in published_rows(report) if r.kind == "total_new_money" and r.row.currency == "CNY")
    visit = Visit(browser, (demo_site.out / "index.html").as_uri(), WIDTHS["desktop"])
    try:
        for column in ("pledged", "signed", "intended", "net_disbursed", "confirmed", "outstanding"):
            shown = visit.page.inner_text(f'dl[data-currency="CNY"] dd[data-column="{column}"]')
            assert Decimal(shown.replace(",", "")) == headline.figures[column], column
        visit.page.click('dl[data-currency="CNY"] dd[data-column="pledged"] a')
        value = visit.page.get_attribute('dd.value[data-column="pledged"]', "data-value")
        assert value is not None and Decimal(value) == headline.figures["pledged"]
        assert visit.page.locator("table.parts tbody tr").count() >= 100
        visit.page.locator("table.parts tbody tr th a").first.click()
        anchor = visit.page.url.partition("#")[2]
        assert anchor.startswith("pledge-")
        section = visit.page.locator(f"section#{anchor}")
        assert section.locator("table.events tbody tr").count() >= 1
        assert section.is_visible() and section.bounding_box() is not None
        assert visit.page.evaluate("window.scrollY") > 0  # the browser went to the pledge's events
        assert visit.errors == []
    finally:
        visit.close()
