"""Build the public site: every page rendered from the projections, written only when its bytes change.

Figures come from the reports (``projections.totals`` and its published rows, the transparency
views, ``disclosure_status``); every figure links to its explanation page, made by
``explain_all`` at the same coordinates. Nothing is recomputed here a second way.
"""

from __future__ import annotations

import functools
import hashlib
import json
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from aidledger.application.ledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint
from aidledger.canonical import canonical_json
from aidledger.domain.divisions import VINTAGE as DIVISIONS_VINTAGE
from aidledger.domain.values import parse_effective_date
from aidledger.errors import InvalidInput
from aidledger.projections import as_of as as_of_coordinates
from aidledger.projections import disclosure_status, fold_of, totals, transparency
from aidledger.projections.columns import BASE_COLUMNS, sign_in
from aidledger.projections.disclosure import DisclosureReport
from aidledger.projections.fold import AsOf, Fact, LedgerFold, PledgeRecord, money
from aidledger.projections.totals import ANONYMOUS, DIMENSIONS, TotalsReport, TotalsRow, published_rows
from aidledger.projections.transparency import (
    CountyPage,
    OrganizationPage,
    PageIndex,
    ProjectPage,
    donor_name,
)
from aidledger.site.charts import Bar, bar_chart
from aidledger.site.labels import LANGUAGES, label, place, words

__all__ = ["MANIFEST", "SiteResult", "build_site", "campaign_path", "safe_url"]

MANIFEST = ".aidledger-site"
"""The list of files a build wrote (with the hash of each page's body) and the settings and checkpoint
it was built with, so that the next build into the same folder writes only what changed and removes
stale files."""

SITE_FORMAT = 2
"""The version of the site's pages: a build of another version rewrites every page."""

HEADLINE = ("pledged", "signed", "intended", "net_disbursed", "confirmed", "outstanding")
CHART_COLUMNS = ("pledged", "net_disbursed")
LINE_COLUMNS = ("pledged", "signed", "net_disbursed", "confirmed", "outstanding")
STATUSES = ("met", "met_late", "overdue", "due", "upcoming")


@dataclass(frozen=True)
class SiteResult:
    """What a build did: where the site is, what it covers, and how many files changed."""

    out: Path
    index: Path
    checkpoint: Checkpoint
    digest: str
    """The digest of the whole ledger's headline totals report (the overview's first figures)."""
    pages: int
    written: int
    unchanged: int
    removed: int
    rendered: int = 0
    """Pages rendered by this build; the others were made from the same inputs as the last build's
    and kept as they were, unrendered."""
    mismatched: tuple[str, ...] = ()
    """Explanation pages whose events do not add up to the figure shown (none, unless a report and
    ``explain`` disagree); each is named on its page as well."""


@dataclass(frozen=True)
class _Row:
    """An aggregate figure's row: every figure of one key, currency and flow as of one point, explained
    together on one page by the pledges that make them up (each pledge's events are on its project page).

    A point of the chart over time (``since`` set) counts only what happened after the previous point,
    whose page ``previous`` is; the first point counts everything up to its date."""

    key: tuple[tuple[str, str], ...]
    currency: str
    flow: str
    as_of: AsOf
    since: date | None = None
    previous: str | None = None


@dataclass
class _Explanations:
    """The figures linked from pages: aggregate rows (a page each) and pledge figures (a section of
    their project's page), with the value each page showed, checked when they are explained."""

    rows: dict[str, _Row] = field(default_factory=dict)
    shown: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(page or pledge id, column) -> the value a page showed for it."""

    def link(self, row: _Row, column: str, value: Decimal) -> str:
        """The path (from the site's root) of the page explaining ``column`` of ``row``, shown as ``value``."""
        name: dict[str, Any] = {"key": dict(row.key), "currency": row.currency}
        if row.flow != "donation":
            name["flow"] = row.flow
        if row.as_of.recorded_before is not None:
            name["r"] = str(row.as_of.recorded_before)
        if row.as_of.effective_on is not None:
            name["e"] = str(row.as_of.effective_on)
        if row.since is not None:
            name["since"] = str(row.since)
        page = "explain/" + hashlib.sha256(canonical_json(name)).hexdigest()[:20] + ".html"
        self.rows.setdefault(page, row)
        self.shown.setdefault((page, column), value)
        return f"{page}#{column}"

    def pledge(self, pledge_id: str, column: str, value: Decimal) -> None:
        """Note the value a page showed for one pledge's figure (explained on its project's page)."""
        self.shown.setdefault((pledge_id, column), value)


class _Writer:
    """Writes files under ``out`` only when what they show changed; removes what the last build wrote
    and this did not.

    A page is compared by the hash of everything before its footer (its *body*): when only the
    checkpoint grew, a page whose body is the same is left as it is, naming the earlier checkpoint it
    was built from, of which the new one is an extension. A page may also carry a hash of everything
    it is made from (its *inputs*): when they are the last build's, it is not even rendered again.
    Anything else that changed (the language, the coordinates, the ``--on`` date, another history,
    another version of the site's code) makes every page count as changed."""

    def __init__(self, out: Path, previous: dict[str, tuple[str, str]]) -> None:
        self.out = out
        self.previous = previous
        self.paths: dict[str, tuple[str, str]] = {}
        self.written = self.unchanged = 0

    def reuse(self, relative: str, inputs: str) -> bool:
        """Keep the page ``relative`` as it is if the last build made it from the same ``inputs``."""
        found = self.previous.get(relative)
        if found is None or found[1] != inputs or not found[0] or not (self.out / relative).is_file():
            return False
        self.paths[relative] = found
        self.unchanged += 1
        return True

    def write(self, relative: str, data: bytes, body: bytes | None = None, inputs: str = "") -> None:
        digest = hashlib.sha256(data if body is None else body).hexdigest()
        path = self.out / relative
        self.paths[relative] = (digest, inputs)
        if self.previous.get(relative, ("", ""))[0] == digest and path.is_file():
            self.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written += 1

    def finish(self, header: dict[str, Any]) -> int:
        removed = 0
        for relative in sorted(set(self.previous) - set(self.paths)):
            path = self.out / relative
            if path.is_file():
                path.unlink()
                removed += 1
        lines = [f"# {canonical_json(header).decode()}\n"]
        lines += [f"{path}\t{body}\t{inputs}\n" for path, (body, inputs) in sorted(self.paths.items())]
        (self.out / MANIFEST).write_text("".join(lines), encoding="utf-8")
        return removed


def _previous_files(out: Path) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """What the last build into ``out`` recorded (its settings and checkpoint) and the files it wrote,
    each with the hashes of its body and its inputs; refuses a folder that holds anything else."""
    manifest = out / MANIFEST
    if manifest.is_file():
        header: dict[str, Any] = {}
        files: dict[str, tuple[str, str]] = {}
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                try:
                    found = json.loads(line[2:])
                except ValueError:
                    found = None
                header = found if isinstance(found, dict) else {}
                continue
            relative, _, hashes = line.partition("\t")
            body, _, inputs = hashes.partition("\t")
            if relative and ".." not in Path(relative).parts and not Path(relative).is_absolute():
                files[relative] = (body, inputs)
        return header, files
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput("--out", str(out), "a new or empty folder, or one an earlier `aidledger site` wrote")
    return {}, {}


def _kept(header: dict[str, Any], settings: dict[str, Any], fold: LedgerFold) -> bool:
    """Whether pages of the last build may stay as they are when their bodies are unchanged: built with
    the same settings, from a checkpoint the current one extends (the same history, grown or not)."""
    position, root = header.get("position"), header.get("root")
    if header.get("settings") != settings or not isinstance(position, int) or not 0 <= position <= fold.position:
        return False
    root_of = fold.root_of
    return root_of is not None and root_of(position) == root


def _figure_link(value: Decimal, href: str, root: str) -> Markup:
    """A figure, as the link to its explanation (a function, not a template macro: pages hold many)."""
    return Markup(f'<a class="figure" href="{escape(root + href)}">{value:,.2f}</a>')


def _environment(lang: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("aidledger.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one build, one set of templates, even if the installed package changes meanwhile
    )
    environment.filters["money"] = lambda value: f"{value:,.2f}"
    environment.globals["fig"] = _figure_link
    environment.filters["label"] = lambda value: label(lang, str(value))
    environment.filters["place"] = place
    environment.globals["t"] = words(lang)
    environment.globals["lang"] = lang
    return environment


@dataclass
class _Site:
    """One build: the fold, its coordinates, what every page shares, and the pages rendered so far."""

    fold: LedgerFold
    as_of: AsOf
    on: date
    lang: str
    checkpoint: Checkpoint
    note: str | None
    environment: Environment
    writer: _Writer
    words: dict[str, str]
    explanations: _Explanations = field(default_factory=_Explanations)
    organizations: set[str] = field(default_factory=set)
    rendered: int = 0
    reports: dict[tuple[tuple[str, ...], AsOf], TotalsReport] = field(default_factory=dict)
    pledge_sums: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """Each pledge's columns as the sums of its events listed on its project's page."""
    mismatched: set[str] = field(default_factory=set)
    """Pages (or sections) whose figure differs from the sum of its parts: none, unless the views and
    the events disagree."""
    pages: int = 0

    @property
    def coordinates(self) -> dict[str, Any]:
        return {
            "position": self.as_of.position,
            "recorded_before": self.as_of.recorded_before,
            "effective_on": self.as_of.effective_on,
        }

    @functools.cached_property
    def shared_inputs(self) -> Any:
        """What every subject page is made from beside its own view: the site's code, the navigation,
        and which organizations have a page (a name is a link or not); hashed once, copied per page."""
        shared = {"code": _code_digest(), "campaigns": self.campaign_pages, "organizations": sorted(self.organizations)}
        return hashlib.sha256(canonical_json(shared))

    def inputs(self, *parts: bytes | str) -> str:
        """The hash of what a page is made from: ``parts`` (its view's figures digest, …) and what every
        page shares."""
        digest = self.shared_inputs.copy()
        for part in parts:
            digest.update(b"\0" + (part.encode("utf-8") if isinstance(part, str) else part))
        found: str = digest.hexdigest()
        return found

    def reuse(self, relative: str, inputs: str) -> bool:
        """Keep a page as the last build wrote it, not rendered again, if it was made from ``inputs``."""
        if self.writer.reuse(relative, inputs):
            self.pages += 1
            return True
        return False

    def render(self, relative: str, template: str, digest: str, inputs: str = "", **context: Any) -> None:
        """Render one page to ``relative`` (a path under the site's root), made from ``inputs``."""
        depth = relative.count("/")
        html = self.environment.get_template(template).render(
            root="../" * depth,
            digest=digest,
            checkpoint=self.checkpoint,
            note=self.note,
            as_of=self.as_of,
            position=self.as_of.position if self.as_of.position is not None else self.checkpoint.size,
            campaigns=self.campaign_pages,
            **context,
        )
        data = html.encode("utf-8")
        self.writer.write(relative, data, body=data[: data.find(b"<footer")], inputs=inputs)
        self.pages += 1
        self.rendered += 1

    def link(
        self, column: str, key: dict[str, str], currency: str, value: Decimal, as_of: AsOf | None = None,
        flow: str = "donation",
    ) -> str:
        """The path of the explanation of a figure shown as ``value``: a pledge's is a section of its
        project's page; any other is the page of its row."""
        if set(key) == {"pledge"}:
            self.explanations.pledge(key["pledge"], column, value)
            return f"project/{self.fold.pledges[key['pledge']].project_id}.html#pledge-{key['pledge']}"
        row = _Row(tuple(key.items()), currency, flow, as_of or self.as_of)
        return self.explanations.link(row, column, value)

    @functools.cached_property
    def campaign_pages(self) -> list[tuple[str, str]]:
        """Every campaign's name and page (in every page's navigation: worked out once per build)."""
        names = sorted({c for p in self.fold.projects.values() for c in p.plan.campaigns if self.known(p)})
        return [(name, campaign_path(name)) for name in names]

    def report(self, dims: tuple[str, ...], as_of: AsOf | None = None) -> TotalsReport:
        """The totals report grouped by ``dims`` at ``as_of`` (the site's coordinates by default), made
        once per build: the overviews of the whole ledger and of every campaign share them."""
        as_of = as_of or self.as_of
        found = self.reports.get((dims, as_of))
        if found is None:
            found = self.reports[(dims, as_of)] = totals(
                self.fold, dims, position=as_of.position, recorded_before=as_of.recorded_before,
                effective_on=as_of.effective_on,
            )  # fmt: skip
        return found

    @functools.cached_property
    def disclosure(self) -> DisclosureReport:
        """Every disclosure duty on the ``--on`` date (made once; each overview shows its scope's)."""
        return disclosure_status(self.fold, self.on, position=self.as_of.position,
                                 recorded_before=self.as_of.recorded_before)  # fmt: skip

    @functools.cached_property
    def index(self) -> PageIndex:
        """The lookups every subject page shares (one pass over the ledger for all of them)."""
        return PageIndex(self.fold, self.as_of)

    def known(self, record: Any) -> bool:
        return self.as_of.knows(record.position, record.recorded_at)


@functools.cache
def _code_digest() -> str:
    """A hash of the site's templates and code, and of the division names' vintage: pages made by other
    code, or naming counties from another list, are rebuilt."""
    digest = hashlib.sha256(DIVISIONS_VINTAGE.isoformat().encode())
    package = Path(__file__).parent
    for path in sorted([*package.glob("*.py"), *(package / "templates").iterdir()]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def campaign_path(name: str) -> str:
    """The page of a campaign: named by a hash of its name, which may hold any character."""
    return "campaign/" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16] + ".html"


def build_site(
    ledger: AidLedger,
    out: Path,
    *,
    lang: str = "zh",
    on: date | str | None = None,
    position: int | None = None,
    recorded_before: datetime | str | None = None,
    effective_on: date | str | None = None,
    checkpoint_note: Path | None = None,
) -> SiteResult:
    """Write the static site of ``ledger`` into ``out``, as of the given coordinates.

    ``on`` is the date disclosure duties are evaluated on (default: the effective-on date, else
    today). ``checkpoint_note`` is a signed checkpoint file copied beside the pages and linked from
    every footer.
    """
    if lang not in LANGUAGES:
        raise InvalidInput("--lang", lang, "zh (Chinese, the default) or en (English)")
    as_of = as_of_coordinates(position, recorded_before, effective_on)
    last = ledger.position()
    if as_of.position is not None and as_of.position > last:
        raise InvalidInput("position", as_of.position, f"a log position from 0 to {last}, the last one stored")
    day = None
    if on is not None:
        try:
            day = parse_effective_date(on)
        except ValueError as error:
            raise InvalidInput("--on", on, str(error)) from None
    day = day or as_of.effective_on or date.today()
    out = Path(out)
    header, previous = _previous_files(out)
    fold = fold_of(ledger)
    checkpoint, _ = make_checkpoint(ledger, size=as_of.position, projections=False)
    note = None if checkpoint_note is None else "checkpoint/" + _safe_name(checkpoint_note.name)
    settings = {
        "format": SITE_FORMAT, "lang": lang, "on": day.isoformat(), "position": as_of.position, "note": note,
        "recorded_before": None if as_of.recorded_before is None else as_of.recorded_before.isoformat(),
        "effective_on": None if as_of.effective_on is None else as_of.effective_on.isoformat(),
    }  # fmt: skip
    writer = _Writer(out, previous if _kept(header, settings, fold) else dict.fromkeys(previous, ("", "")))
    if checkpoint_note is not None and note is not None:
        writer.write(note, _read_note(checkpoint_note))
    site = _Site(fold, as_of, day, lang, checkpoint, note, _environment(lang), writer, words(lang))
    digest = _write_pages(site)
    mismatched = _write_explanations(site)
    position = fold.position if as_of.position is None else as_of.position
    built = {"settings": settings, "position": position, "root": fold.root_of(position) if fold.root_of else None}
    removed = writer.finish(built)
    return SiteResult(
        out=out,
        index=out / "index.html",
        checkpoint=checkpoint,
        digest=digest,
        pages=site.pages,
        written=writer.written,
        unchanged=writer.unchanged,
        removed=removed,
        rendered=site.rendered,
        mismatched=tuple(mismatched),
    )


def _safe_name(name: str) -> str:
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name).lstrip(".")
    return kept or "checkpoint"


def _read_note(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput("--checkpoint", str(path), f"a readable checkpoint file ({error.strerror})") from None
    if len(data) > 64 * 1024:
        raise InvalidInput("--checkpoint", str(path), "a checkpoint file of at most 64 KiB")
    return data


def _write_pages(site: _Site) -> str:
    """Every page but the explanations; returns the digest of the whole ledger's headline report."""
    projects = sorted((p for p in site.fold.projects.values() if site.known(p)), key=lambda p: (p.plan.title, p.id))
    site.organizations = _public_organizations(site)
    digest = _overview(site, None, "index.html")
    for name, path in site.campaign_pages:
        _overview(site, name, path)
    counties = sorted({p.plan.region for p in projects if p.plan.region and not p.plan.pooled_fund})
    for county in counties:
        _county(site, county)
    for project in projects:
        _project(site, project.id)
    for organization in sorted(site.organizations):
        _organization(site, organization)
    _lists(site, projects, counties)
    site.render("verify.html", "verify.html", digest, title=site.words["verify"])
    style = site.environment.get_template("style.css").render()
    site.writer.write("style.css", style.encode("utf-8"))
    return digest


def _public_organizations(site: _Site) -> set[str]:
    """Organizations with a public role: implementers, named donors and channels (never an anonymous donor as such)."""
    public = {p.plan.implementing_organization_id for p in site.fold.projects.values() if site.known(p)}
    for pledge in site.fold.pledges.values():
        if site.known(pledge):
            if not pledge.anonymous:
                public.add(pledge.donor_id)
            if pledge.channel_id:
                public.add(pledge.channel_id)
    return {o for o in public if o in site.fold.organizations and site.fold.organizations[o].at(site.as_of)}


# -- overviews --------------------------------------------------------------------------------------


def _scope_rows(report: TotalsReport, campaign: str | None) -> list[TotalsRow]:
    return [row for row in report.rows if campaign is None or row.key.get("campaign") == campaign]


def _overview(site: _Site, campaign: str | None, path: str) -> str:
    """The overview of the whole ledger (``campaign`` None) or of one campaign."""
    base = {"campaign": campaign} if campaign is not None else {}
    dims = list(base)
    headline_report = site.report(tuple(dims))
    headline = _headline(site, headline_report, campaign, base)
    in_kind = site.report((*dims, "form"))
    for row in _scope_rows(in_kind, campaign):
        if row.key["form"] == "in_kind" and row.currency in headline:
            value = row.new_money["pledged"]
            link = site.link("pledged", {**base, "origin": "new", "form": "in_kind"}, row.currency, value)
            headline[row.currency]["in_kind"] = (value, link)
    charts = [
        _chart(site, campaign, base, dimension, title)
        for dimension, title in (
            ("category", "by_category"),
            ("donor_level", "by_donor_level"),
            ("field", "by_field"),
            ("county", "by_county"),
        )
    ]
    charts.append(_over_time(site, campaign, base))
    disclosure = _disclosure(site, campaign)
    title = campaign if campaign is not None else site.words["whole_ledger"]
    site.render(path, "overview.html", headline_report.digest, title=title, campaign=campaign,
                headline=headline, charts=charts, disclosure=disclosure)  # fmt: skip
    return headline_report.digest


def _headline(
    site: _Site, report: TotalsReport, campaign: str | None, base: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per currency: the headline figures (new money counted once), passed-through money, and counts."""
    found: dict[str, dict[str, Any]] = {}
    if campaign is None:
        for published in published_rows(report):
            figures = found.setdefault(published.row.currency, {"row": published.row})
            if published.kind == "total_new_money":
                for column in HEADLINE:
                    value = published.figures[column]
                    figures[column] = (value, site.link(column, {"origin": "new"}, published.row.currency, value))
            elif published.kind == "total_passed_through":
                value = published.figures["pledged"]
                figures["passed"] = (value, site.link("pledged", {"origin": "regrant"}, published.row.currency, value))
        return found
    for row in _scope_rows(report, campaign):
        figures = found.setdefault(row.currency, {"row": row})
        for column in HEADLINE:
            value = row.new_money[column]
            figures[column] = (value, site.link(column, {**base, "origin": "new"}, row.currency, value))
        value = row.passed_through["pledged"]
        figures["passed"] = (value, site.link("pledged", {**base, "origin": "regrant"}, row.currency, value))
    return found


def _value_label(site: _Site, dimension: str, value: str) -> str:
    if dimension == "county":
        return place(value)
    return label(site.lang, value)


def _chart(site: _Site, campaign: str | None, base: dict[str, str], dimension: str, title: str) -> dict[str, Any]:
    """A bar chart and its table: pledged and net disbursed per value of ``dimension``."""
    report = site.report((*base, dimension))
    rows = []
    for row in _scope_rows(report, campaign):
        value = row.key[dimension]
        links = {c: site.link(c, {**base, dimension: value}, row.currency, row.columns[c]) for c in CHART_COLUMNS}
        rows.append({"key": value, "label": _value_label(site, dimension, value), "row": row, "links": links})
    return _drawn(site, f"chart-{dimension}", title, rows, "county" if dimension == "county" else None)


def _drawn(site: _Site, chart_id: str, title: str, rows: list[dict[str, Any]], link_kind: str | None) -> dict[str, Any]:
    t = site.words
    currencies = sorted({r["row"].currency for r in rows}) or ["CNY"]
    currency = "CNY" if "CNY" in currencies else currencies[0]
    shown = [r for r in rows if r["row"].currency == currency]
    series = [label(site.lang, c) for c in CHART_COLUMNS]
    bars = [Bar(r["label"], tuple(r["row"].columns[c] for c in CHART_COLUMNS)) for r in shown]
    pairs = list(zip(series, CHART_COLUMNS, strict=True))
    description = "; ".join(
        f"{r['label']}: " + ", ".join(f"{name} {r['row'].columns[c]:,.2f}" for name, c in pairs) for r in shown
    )
    svg = bar_chart(chart_id, f"{t[title]} ({currency})", description or t["none"], series, bars)
    return {"id": chart_id, "title": t[title], "svg": svg, "rows": rows, "link_kind": link_kind}


def _month_ends(site: _Site) -> list[date]:
    facts = site.fold.facts
    if not facts:
        return []
    first = min(f.effective_on for f in facts)
    last = max(f.effective_on for f in facts)
    if site.as_of.effective_on is not None:
        last = min(last, site.as_of.effective_on)
    ends = []
    month = date(first.year, first.month, 1)
    while month <= last:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        ends.append(min(following - timedelta(days=1), last))
        month = following
    step = -(-len(ends) // 36)  # at most 36 points: every month, or every few
    return ends[::-1][::step][::-1]


def _over_time(site: _Site, campaign: str | None, base: dict[str, str]) -> dict[str, Any]:
    """Cumulative pledged and net disbursed new money at each month end, as of that date; each point is
    explained by what was added since the previous point, which it links to."""
    rows = []
    key = {**base, "origin": "new"}
    previous: dict[str, str | None] = {}
    since: dict[str, date | None] = {}
    for end in _month_ends(site):
        as_of = AsOf(site.as_of.position, site.as_of.recorded_before, end)
        # one report per month end for the whole ledger (its grand totals) and every campaign (its rows)
        report = site.report(("campaign",) if site.campaign_pages else (), as_of)
        for row in report.totals if campaign is None else _scope_rows(report, campaign):
            shown = row.model_copy(update={"columns": row.new_money})
            point = _Row(tuple(key.items()), row.currency, "donation", as_of, since.get(row.currency),
                         previous.get(row.currency))  # fmt: skip
            links = {c: site.explanations.link(point, c, row.new_money[c]) for c in CHART_COLUMNS}
            previous[row.currency], since[row.currency] = links[CHART_COLUMNS[0]].partition("#")[0], end
            rows.append({"key": end.isoformat(), "label": end.isoformat()[:7], "row": shown, "links": links})
    return _drawn(site, "chart-time", "over_time", rows, None)


def _disclosure(site: _Site, campaign: str | None) -> dict[str, Any]:
    report = site.disclosure
    rows = [
        row
        for row in report.rows
        if campaign is None or campaign in site.fold.projects[str(row.project_id)].plan.campaigns
    ]
    counts = Counter(row.status for row in rows)
    statuses = [s for s in STATUSES if counts[s] or s != "due"] + sorted(set(counts) - set(STATUSES))
    return {"on": site.on, "counts": counts, "statuses": statuses, "rows": rows, "digest": report.digest}


# -- subject pages ---------------------------------------------------------------------------------


def _totals_links(site: _Site, key: dict[str, str], page: Any) -> list[dict[str, Any]]:
    return [
        {"totals": t, "links": {c: site.link(c, key, t.currency, t.columns[c]) for c in LINE_COLUMNS}}
        for t in page.totals
    ]


def _pledge_totals(site: _Site, path: str, page: ProjectPage | OrganizationPage) -> list[dict[str, Any]]:
    """The totals of a project's or an organization's page, each linked to the page's own table of
    pledges (``#pledges``), whose donations add up to them: checked here, every figure."""
    sums: dict[str, dict[str, Decimal]] = {}
    for line in page.pledges:
        if line.flow == "donation":
            found = sums.setdefault(line.currency, dict.fromkeys(LINE_COLUMNS, Decimal(0)))
            for column in LINE_COLUMNS:
                found[column] += line.columns[column]
    for t in page.totals:
        if any(sums.get(t.currency, {}).get(c) != t.columns[c] for c in LINE_COLUMNS):
            site.mismatched.add(f"{path}#pledges")
    return [{"totals": t, "links": dict.fromkeys(LINE_COLUMNS, f"{path}#pledges")} for t in page.totals]


def _pledge_links(site: _Site, pledges: Iterable[Any]) -> list[dict[str, Any]]:
    lines = []
    for line in pledges:
        key = {"pledge": str(line.pledge_id)}
        links = {c: site.link(c, key, line.currency, line.columns[c], flow=line.flow) for c in LINE_COLUMNS}
        record = site.fold.pledges[str(line.pledge_id)]
        donor = str(line.donor_id) if line.donor_id is not None and str(line.donor_id) in site.organizations else None
        lines.append({"line": line, "links": links, "goods": record.items, "donor_page": donor})
    return lines


def _project(site: _Site, project_id: str) -> None:
    page = transparency(site.fold, "project", project_id, index=site.index, **site.coordinates)
    assert isinstance(page, ProjectPage)
    implementer = site.fold.projects[project_id].plan.implementing_organization_id
    path = f"project/{project_id}.html"
    totals, pledges = _pledge_totals(site, path, page), _pledge_links(site, page.pledges)
    facts = site.index.facts.get(project_id, [])
    inputs = site.inputs(page.figures_digest(), msgspec.json.encode(facts))
    if site.reuse(path, inputs):
        return
    site.render(path, "project.html", page.digest, inputs, title=page.title, page=page, totals=totals,
                pledges=pledges, implementer=implementer if implementer in site.organizations else None,
                safe_url=safe_url, events=_pledge_events(site, project_id, page.pledges))  # fmt: skip


def _county(site: _Site, county: str) -> None:
    page = transparency(site.fold, "county", county, index=site.index, **site.coordinates)
    assert isinstance(page, CountyPage)
    groups = []
    for dimension, values in (("donor_level", page.by_donor_level), ("donor_kind", page.by_donor_kind)):
        rows = []
        for value, per_currency in values.items():
            for t in per_currency:
                key = {"county": county, dimension: value}
                links = {c: site.link(c, key, t.currency, t.columns[c]) for c in CHART_COLUMNS}
                rows.append({"key": value, "label": label(site.lang, value), "row": t, "links": links})
        groups.append((dimension, rows))
    totals = _totals_links(site, {"county": county}, page)
    path = f"county/{county}.html"
    inputs = site.inputs(page.figures_digest())
    if site.reuse(path, inputs):
        return
    charts = [_drawn(site, f"chart-{dimension}", f"by_{dimension}", rows, None) for dimension, rows in groups]
    site.render(path, "county.html", page.digest, inputs, title=place(county), page=page, totals=totals,
                charts=charts)  # fmt: skip


def _organization(site: _Site, organization_id: str) -> None:
    page = transparency(
        site.fold, "organization", organization_id, on=site.on, index=site.index, **site.coordinates
    )
    assert isinstance(page, OrganizationPage)
    path = f"organization/{organization_id}.html"
    totals, pledges = _pledge_totals(site, path, page), _pledge_links(site, page.pledges)
    inputs = site.inputs(page.figures_digest())
    if site.reuse(path, inputs):
        return
    site.render(path, "organization.html", page.digest, inputs, title=page.name, page=page, totals=totals,
                pledges=pledges)  # fmt: skip


def _lists(site: _Site, projects: list[Any], counties: list[str]) -> None:
    digest = hashlib.sha256(canonical_json([p.id for p in projects])).hexdigest()
    t = site.words
    site.render("projects.html", "projects.html", digest, title=t["projects"], projects=projects,
                status=lambda p: p.status_at(site.as_of)[0], counties=counties)  # fmt: skip
    organizations = sorted(
        ((o, site.fold.organizations[o].at(site.as_of)) for o in site.organizations),
        key=lambda pair: (pair[1][0].name if pair[1] else "", pair[0]),
    )
    digest = hashlib.sha256(canonical_json(sorted(site.organizations))).hexdigest()
    site.render("organizations.html", "organizations.html", digest, title=t["organizations"],
                organizations=organizations)  # fmt: skip


def safe_url(url: str | None) -> str | None:
    """A disclosure's URL when it is a web address (http or https); anything else is shown as text only."""
    if url and url.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in url):
        return url
    return None


# -- explanations ----------------------------------------------------------------------------------

SHOWN = HEADLINE
"""The columns an explanation can show, in this order: every column a page links."""


def _yuan(cents: int) -> str:
    """An amount in hundredths as pages show money (``-1,234.50``): exact, and faster than a Decimal's
    format for the hundreds of thousands of cells of a large ledger's explanations."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole:,}.{part:02d}"


def _signed(column: str, base: str, amount: int) -> int:
    return sign_in(column, base) * amount


def _pledge_events(site: _Site, project_id: str, lines: Iterable[Any]) -> Markup:
    """The events of each pledge of a project's page, as a section per pledge that its figures link to
    (``#pledge-<id>``): position, type, date and what each adds to every column, with their sums."""
    by_pledge: dict[str, list[Fact]] = {}
    for fact in site.index.facts.get(project_id, ()):
        by_pledge.setdefault(fact.pledge_id, []).append(fact)
    t, lang = site.words, site.lang
    heads = "".join(f'<th scope="col">{escape(label(lang, c))}</th>' for c in SHOWN)
    sections = []
    for line in lines:
        pledge = str(line.pledge_id)
        sums = dict.fromkeys(SHOWN, 0)
        rows = []
        events: dict[tuple[int, str, date], dict[str, int]] = {}
        for fact in by_pledge.get(pledge, ()):  # an event may feed several base columns: one row for it
            amounts = events.setdefault((fact.position, fact.event, fact.effective_on), {})
            for column in SHOWN:
                if sign_in(column, fact.column):
                    amounts[column] = amounts.get(column, 0) + _signed(column, fact.column, fact.amount)
        for (position, event, day), amounts in events.items():
            cells = []
            for column in SHOWN:
                sums[column] += amounts.get(column, 0)
                shown = _yuan(amounts[column]) if column in amounts else ""
                cells.append(f'<td class="num">{shown}</td>')
            rows.append(
                f'<tr><th scope="row">{position}</th><td>{escape(label(lang, event))}</td>'
                f'<td>{day}</td>{"".join(cells)}</tr>\n'
            )
        site.pledge_sums[pledge] = {column: money(amount) for column, amount in sums.items()}
        totals = "".join(f'<td class="num">{_yuan(sums[c])}</td>' for c in SHOWN)
        sections.append(
            f'<section class="pledge-events" id="pledge-{pledge}" aria-labelledby="pledge-{pledge}-h">\n'
            f'<h3 id="pledge-{pledge}-h">{escape(label(lang, line.donor))} · {escape(t["pledge"])} {pledge[:8]}'
            f" · {escape(line.currency)}</h3>\n"
            f'<div class="table-wrap">\n<table class="events" data-pledge="{pledge}">\n'
            f'<caption>{escape(t["events"])}</caption>\n<thead><tr><th scope="col">{escape(t["position"])}</th>'
            f'<th scope="col">{escape(t["event"])}</th><th scope="col">{escape(t["date"])}</th>{heads}</tr></thead>\n'
            f"<tbody>\n{''.join(rows)}</tbody>\n"
            f'<tfoot><tr><th scope="row" colspan="3">{escape(t["sum_check"])}</th>{totals}</tr></tfoot>\n'
            "</table>\n</div>\n</section>\n"
        )
    return Markup("".join(sections))


def _row_parts(site: _Site) -> dict[str, list[tuple[PledgeRecord, dict[str, int]]]]:
    """Each row page's parts: the pledges of its key, currency and flow, with what each adds to every
    column (in hundredths) at the row's coordinates, or since the previous point for a point over time.

    A pledge belongs to a row by the same dimensions (``totals.DIMENSIONS``) a report groups it by."""
    fold, rows = site.fold, site.explanations.rows
    found: dict[str, list[tuple[PledgeRecord, dict[str, int]]]] = {page: [] for page in rows}
    groups: dict[tuple[AsOf, date | None, tuple[str, ...]], dict[tuple[str, ...], list[str]]] = {}
    for page, row in rows.items():
        names = tuple(name for name, _ in row.key)
        group = groups.setdefault((row.as_of, row.since, names), {})
        group.setdefault(tuple(value for _, value in row.key), []).append(page)
    facts: list[Fact] = sorted(
        (f for per_project in site.index.facts.values() for f in per_project), key=lambda f: f.effective_on
    )
    days = [f.effective_on for f in facts]
    windows: dict[tuple[AsOf, date | None], dict[str, dict[str, int]]] = {}
    for (as_of, since, names), by_key in groups.items():
        amounts = windows.get((as_of, since))
        if amounts is None:
            amounts = windows[(as_of, since)] = _amounts(site, as_of, since, facts, days)
        for pledge_id, sums in amounts.items():
            if not any(sums.values()):
                continue
            pledge = fold.pledges[pledge_id]
            for values in product(*(DIMENSIONS[name](fold, pledge, 0, as_of) for name in names)):
                for page in by_key.get(values, ()):
                    row = rows[page]
                    if pledge.currency == row.currency and pledge.flow == row.flow:
                        found[page].append((pledge, sums))
    return found


_WEIGHTS = {column: [(i, sign_in(column, base)) for i, base in enumerate(BASE_COLUMNS) if sign_in(column, base)]
            for column in SHOWN}  # fmt: skip


def _amounts(
    site: _Site, as_of: AsOf, since: date | None, facts: list[Fact], days: list[date]
) -> dict[str, dict[str, int]]:
    """What each pledge adds to every column (in hundredths): at the site's coordinates, its line; for a
    point over time, the facts dated after ``since`` up to the point's date."""
    amounts: dict[str, dict[str, int]] = {}
    if since is None and as_of == site.as_of:
        for pledge_id, line in site.index.lines.items():
            amounts[pledge_id] = {c: sum(line[i] * sign for i, sign in _WEIGHTS[c]) for c in SHOWN}
        return amounts
    start = 0 if since is None else bisect_right(days, since)
    for fact in facts[start : bisect_right(days, as_of.effective_on or date.max)]:
        sums = amounts.setdefault(fact.pledge_id, dict.fromkeys(SHOWN, 0))
        for column in SHOWN:
            sums[column] += _signed(column, fact.column, fact.amount)
    return amounts


def _write_explanations(site: _Site) -> list[str]:
    """Every row page, and the check that every figure shown equals the sum of its parts (the pledges'
    events, for a pledge's figure); returns the pages (or sections) where one does not."""
    shown = site.explanations.shown
    mismatched = site.mismatched | {
        f"project/{site.fold.pledges[subject].project_id}.html#pledge-{subject}"
        for (subject, column), value in shown.items()
        if subject in site.pledge_sums and site.pledge_sums[subject][column] != value
    }
    parts = _row_parts(site)
    titles = {p.id: p.plan.title for p in site.fold.projects.values()}
    cells: dict[str, str] = {}
    for page, row in site.explanations.rows.items():
        columns = [c for c in SHOWN if (page, c) in shown]
        values = {c: shown[(page, c)] for c in columns}
        before = {c: shown[(row.previous, c)] for c in columns} if row.previous is not None else None
        listed = sorted(parts[page], key=lambda part: (titles[part[0].project_id], part[0].id))
        sums = {
            c: (before or {}).get(c, Decimal(0)) + money(sum(amounts[c] for _, amounts in listed)) for c in columns
        }
        wrong = [c for c in columns if sums[c] != values[c]]
        if wrong:
            mismatched.add(page)
        digest = hashlib.sha256(canonical_json({
            "key": dict(row.key), "currency": row.currency, "since": str(row.since),
            "effective_on": str(row.as_of.effective_on), "recorded_before": str(row.as_of.recorded_before),
            "values": {c: str(v) for c, v in values.items()},
            "before": None if before is None else {c: str(v) for c, v in before.items()},
            "parts": [[p.id, [a[c] for c in columns]] for p, a in listed],
        })).hexdigest()  # fmt: skip
        rows, key = _part_rows(site, listed, columns, cells), _key_parts(site, dict(row.key))
        inputs = site.inputs(digest, rows, canonical_json(key))
        if site.reuse(page, inputs):
            continue
        site.render(page, "explanation.html", digest, inputs, title=site.words["explanation"], row=row,
                    columns=columns, values=values, sums=sums, wrong=wrong, before=before, key=key, rows=rows,
                    commands=_commands(site, row, columns))  # fmt: skip
    return sorted(mismatched)


def _part_rows(
    site: _Site, parts: list[tuple[PledgeRecord, dict[str, int]]], columns: list[str], cells: dict[str, str]
) -> Markup:
    """The table rows of a row page's pledges, built here rather than in the template: the grand totals
    of a large ledger have a row for every pledge. ``cells`` keeps each pledge's first cells, which
    every row page listing it shares."""
    rows = []
    for pledge, amounts in parts:
        first = cells.get(pledge.id)
        if first is None:
            first = cells[pledge.id] = _pledge_cells(site, pledge)
        figures = "".join(f'<td class="num">{_yuan(amounts[c])}</td>' for c in columns)
        rows.append(f"<tr>{first}{figures}</tr>\n")
    return Markup("".join(rows))


def _pledge_cells(site: _Site, pledge: PledgeRecord) -> str:
    """A pledge's project (linked to its events), donor (linked to its page, unless anonymous) and id."""
    project = escape(site.fold.projects[pledge.project_id].plan.title)
    donor, donor_id = donor_name(site.fold, pledge, site.as_of)
    named = escape(label(site.lang, donor))
    if donor_id is not None and str(donor_id) in site.organizations:
        named = Markup(f'<a href="../organization/{donor_id}.html">{named}</a>')
    return (
        f'<th scope="row"><a href="../project/{escape(pledge.project_id)}.html#pledge-{escape(pledge.id)}">'
        f"{project}</a></th><td>{named}</td><td>{pledge.id[:8]}</td>"
    )


def _key_parts(site: _Site, key: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """Each part of a figure's key as (dimension, shown value, page), naming no anonymous donor."""
    parts: list[tuple[str, str, str | None]] = []
    for name, value in key.items():
        if name == "project":
            parts.append((name, site.fold.projects[value].plan.title, f"project/{value}.html"))
        elif name == "pledge":
            project = site.fold.pledges[value].project_id
            parts.append((name, value[:8], f"project/{project}.html"))
        elif name == "donor" and value != ANONYMOUS and value in site.organizations:
            found = site.fold.organizations[value].at(site.as_of)
            parts.append((name, found[0].name if found else value, f"organization/{value}.html"))
        elif name == "county":
            parts.append((name, place(value), f"county/{value}.html"))
        elif name == "campaign":
            parts.append((name, value, campaign_path(value)))
        else:
            parts.append((name, label(site.lang, value), None))
    return parts


def _commands(site: _Site, row: _Row, columns: list[str]) -> list[str]:
    """The command lines that print each figure of a row page's events (``aidledger explain``)."""
    commands = []
    position = row.as_of.position if row.as_of.position is not None else site.checkpoint.size
    for column in columns:
        parts = ["aidledger", "--db", "LEDGER.db", "explain", column]
        for name, value in row.key:
            parts += ["--key", f"{name}={value}"]
        parts += ["--currency", row.currency, "--position", str(position)]
        if row.as_of.effective_on is not None:
            parts += ["--effective-on", row.as_of.effective_on.isoformat()]
        if row.as_of.recorded_before is not None:
            parts += ["--recorded-before", row.as_of.recorded_before.isoformat()]
        commands.append(" ".join(f"'{p}'" if any(c in p for c in " ()'") else p for p in parts))
    return commands
