"""Import (CSV, JSON Lines) and export (JSON, CSV, IATI 2.03 XML) of the ledger.

See docs/import.md and docs/export.md for the formats.
"""

from __future__ import annotations

from aidledger.interchange.export import Export, export
from aidledger.interchange.history import history_records
from aidledger.interchange.iati import write_iati
from aidledger.interchange.importer import Importer, ImportSummary, RowProblem, import_file

__all__ = [
    "Export",
    "ImportSummary",
    "Importer",
    "RowProblem",
    "export",
    "history_records",
    "import_file",
    "write_iati",
]
