"""The public site: the transparency views as static, offline pages (``aidledger site``).

Plain files that open from disk or any web server, without network access or script: charts
are SVG drawn here, each beside a table of its figures, and every figure links to the events
that make it up. It imports only from the layers below it (application, projections, audit).
"""

from __future__ import annotations

from aidledger.site.build import MANIFEST, SiteResult, build_site

__all__ = ["MANIFEST", "SiteResult", "build_site"]
