"""Build the public site: every page rendered from the projections, written only when its bytes change.

Figures come from the reports (``projections.totals`` and its published rows, the transparency
views, ``disclosure_status``); every figure links to its explanation page, made by
``explain_all`` at the same coordinates. Nothing is recomputed here a second way.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from aidledger.application.ledger import AidLedger
from aidledger.audit.checkpoint import Checkpoint, make_checkpoint
from aidledger.canonical import canonical_json
from aidledger.domain.values import parse_effective_date
from aidledger.errors import InvalidInput
from aidledger.projections import as_of as as_of_coordinates
from aidledger.projections import disclosure_status, fold_of, totals, transparency
from aidledger.projections.explain import Explanation, Figure, explain_all
from aidledger.projections.fold import AsOf, LedgerFold
from aidledger.projections.totals import ANONYMOUS, TotalsReport, TotalsRow, published_rows
from aidledger.projections.transparency import CountyPage, OrganizationPage, PageIndex, ProjectPage
from aidledger.site.charts import Bar, bar_chart
from aidledger.site.labels import LANGUAGES, label, place, words

__all__ = ["MANIFEST", "SiteResult", "build_site", "campaign_path", "safe_url"]

MANIFEST = ".aidledger-site"
"""The list of files a build wrote, so the next build into the same folder can remove stale ones."""

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
    mismatched: tuple[str, ...] = ()
    """Explanation pages whose events do not add up to the figure shown (none, unless a report and
    ``explain`` disagree); each is named on its page as well."""


@dataclass
class _Explanations:
    """The figures linked from pages, explained together at the end (one pass over the facts per as-of)."""

    wanted: dict[str, tuple[AsOf, Figure, Decimal]] = field(default_factory=dict)

    def link(
        self, as_of: AsOf, column: str, key: dict[str, str], currency: str, value: Decimal, flow: str = "donation"
    ) -> str:
        """The path (from the site's root) of the explanation page of a figure shown as ``value``
        (a figure of the pledges of ``flow``: donations, unless a pledge of another flow is shown)."""
        coordinates = {"p": as_of.position, "r": str(as_of.recorded_before), "e": str(as_of.effective_on)}
        name = {"column": column, "key": key, "currency": currency, **coordinates}
        if flow != "donation":  # the pages of donations keep their names
            name["flow"] = flow
        page = "explain/" + hashlib.sha256(canonical_json(name)).hexdigest()[:20] + ".html"
        self.wanted.setdefault(page, (as_of, Figure(column, dict(key), currency, flow), value))
        return page

    def explained(self, fold: LedgerFold) -> Iterable[tuple[str, Decimal, Explanation]]:
        """Every linked figure's page, the value shown, and its explanation."""
        by_as_of: dict[AsOf, list[str]] = {}
        for page, (as_of, _, _) in self.wanted.items():
            by_as_of.setdefault(as_of, []).append(page)
        for as_of, pages in by_as_of.items():
            figures = [self.wanted[page][1] for page in pages]
            for page, explanation in zip(pages, explain_all(fold, figures, as_of), strict=True):
                yield page, self.wanted[page][2], explanation


class _Writer:
    """Writes files under ``out`` only when their bytes differ; removes what the last build wrote and this did not."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.paths: set[str] = set()
        self.written = self.unchanged = 0

    def write(self, relative: str, data: bytes) -> None:
        path = self.out / relative
        self.paths.add(relative)
        if path.is_file() and path.read_bytes() == data:
            self.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written += 1

    def finish(self, previous: set[str]) -> int:
        removed = 0
        for relative in sorted(previous - self.paths):
            path = self.out / relative
            if path.is_file():
                path.unlink()
                removed += 1
        (self.out / MANIFEST).write_text("".join(f"{p}\n" for p in sorted(self.paths)), encoding="utf-8")
        return removed


def _previous_files(out: Path) -> set[str]:
    """The files the last build wrote into ``out``; refuses a folder that holds anything else."""
    manifest = out / MANIFEST
    if manifest.is_file():
        listed = manifest.read_text(encoding="utf-8").splitlines()
        return {line for line in listed if line and ".." not in Path(line).parts and not Path(line).is_absolute()}
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput("--out", str(out), "a new or empty folder, or one an earlier `aidledger site` wrote")
    return set()


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
    pages: int = 0

    @property
    def coordinates(self) -> dict[str, Any]:
        return {
            "position": self.as_of.position,
            "recorded_before": self.as_of.recorded_before,
            "effective_on": self.as_of.effective_on,
        }

    def render(self, relative: str, template: str, digest: str, **context: Any) -> None:
        """Render one page to ``relative`` (a path under the site's root)."""
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
        self.writer.write(relative, html.encode("utf-8"))
        self.pages += 1

    def link(
        self, column: str, key: dict[str, str], currency: str, value: Decimal, as_of: AsOf | None = None,
        flow: str = "donation",
    ) -> str:
        return self.explanations.link(as_of or self.as_of, column, key, currency, value, flow)

    @functools.cached_property
    def campaign_pages(self) -> list[tuple[str, str]]:
        """Every campaign's name and page (in every page's navigation: worked out once per build)."""
        names = sorted({c for p in self.fold.projects.values() for c in p.plan.campaigns if self.known(p)})
        return [(name, campaign_path(name)) for name in names]

    @functools.cached_property
    def index(self) -> PageIndex:
        """The lookups every subject page shares (one pass over the ledger for all of them)."""
        return PageIndex(self.fold, self.as_of)

    def known(self, record: Any) -> bool:
        return self.as_of.knows(record.position, record.recorded_at)


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
    previous = _previous_files(out)
    fold = fold_of(ledger)
    checkpoint, _ = make_checkpoint(ledger, size=as_of.position, projections=False)
    writer = _Writer(out)
    note = None
    if checkpoint_note is not None:
        note = "checkpoint/" + _safe_name(checkpoint_note.name)
        writer.write(note, _read_note(checkpoint_note))
    site = _Site(fold, as_of, day, lang, checkpoint, note, _environment(lang), writer, words(lang))
    digest = _write_pages(site)
    mismatched = _write_explanations(site)
    removed = writer.finish(previous)
    return SiteResult(
        out=out,
        index=out / "index.html",
        checkpoint=checkpoint,
        digest=digest,
        pages=site.pages,
        written=writer.written,
        unchanged=writer.unchanged,
        removed=removed,
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
    headline_report = totals(site.fold, dims, **site.coordinates)
    headline = _headline(site, headline_report, campaign, base)
    in_kind = totals(site.fold, [*dims, "form"], **site.coordinates)
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
    report = totals(site.fold, [*base, dimension], **site.coordinates)
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
    """Cumulative pledged and net disbursed new money at each month end, as of that date."""
    rows = []
    for end in _month_ends(site):
        as_of = AsOf(site.as_of.position, site.as_of.recorded_before, end)
        report = totals(site.fold, list(base), position=as_of.position, recorded_before=as_of.recorded_before,
                        effective_on=end)  # fmt: skip
        for row in report.totals if campaign is None else _scope_rows(report, campaign):
            shown = row.model_copy(update={"columns": row.new_money})
            links = {
                c: site.link(c, {**base, "origin": "new"}, row.currency, row.new_money[c], as_of) for c in CHART_COLUMNS
            }
            rows.append({"key": end.isoformat(), "label": end.isoformat()[:7], "row": shown, "links": links})
    return _drawn(site, "chart-time", "over_time", rows, None)


def _disclosure(site: _Site, campaign: str | None) -> dict[str, Any]:
    report = disclosure_status(site.fold, site.on, position=site.as_of.position,
                               recorded_before=site.as_of.recorded_before)  # fmt: skip
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
    site.render(f"project/{project_id}.html", "project.html", page.digest, title=page.title, page=page,
                totals=_totals_links(site, {"project": project_id}, page), pledges=_pledge_links(site, page.pledges),
                implementer=implementer if implementer in site.organizations else None,
                safe_url=safe_url)  # fmt: skip


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
        groups.append(_drawn(site, f"chart-{dimension}", f"by_{dimension}", rows, None))
    site.render(f"county/{county}.html", "county.html", page.digest, title=place(county), page=page,
                totals=_totals_links(site, {"county": county}, page), charts=groups)  # fmt: skip


def _organization(site: _Site, organization_id: str) -> None:
    page = transparency(
        site.fold, "organization", organization_id, on=site.on, index=site.index, **site.coordinates
    )
    assert isinstance(page, OrganizationPage)
    site.render(f"organization/{organization_id}.html", "organization.html", page.digest, title=page.name,
                page=page, totals=_totals_links(site, {"donor": organization_id}, page),
                pledges=_pledge_links(site, page.pledges))  # fmt: skip


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


def _write_explanations(site: _Site) -> list[str]:
    mismatched = []
    for page, shown, explanation in site.explanations.explained(site.fold):
        if explanation.value != shown:
            mismatched.append(page)
        rows = _contribution_rows(site, explanation)
        site.render(page, "explanation.html", explanation.digest, title=label(site.lang, explanation.column),
                    explanation=explanation, shown=shown, rows=rows, key=_key_parts(site, explanation.key),
                    command=_command(explanation))  # fmt: skip
    return mismatched


def _contribution_rows(site: _Site, explanation: Explanation) -> Markup:
    """The table rows of an explanation's events, built here rather than in the template: a figure
    of a large ledger has hundreds of thousands of them, and this is most of a site's build."""
    pledges = site.fold.pledges
    rows = []
    for c in explanation.contributions:
        project = pledges[str(c.pledge_id)].project_id
        rows.append(
            f'<tr><th scope="row">{c.position}</th><td>{escape(c.event)}</td><td>{c.effective_on}</td>'
            f'<td><a href="../project/{escape(project)}.html">{str(c.pledge_id)[:8]}</a></td>'
            f'<td class="num">{c.amount:,.2f}</td></tr>\n'
        )
    return Markup("".join(rows))


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


def _command(explanation: Explanation) -> str:
    """The command line that prints the same explanation."""
    parts = ["aidledger", "--db", "LEDGER.db", "explain", explanation.column]
    for name, value in explanation.key.items():
        parts += ["--key", f"{name}={value}"]
    parts += ["--currency", explanation.currency, "--position", str(explanation.coordinates.position)]
    if explanation.coordinates.effective_on is not None:
        parts += ["--effective-on", explanation.coordinates.effective_on.isoformat()]
    if explanation.coordinates.recorded_before is not None:
        parts += ["--recorded-before", explanation.coordinates.recorded_before.isoformat()]
    return " ".join(f"'{p}'" if any(c in p for c in " ()'") else p for p in parts)
