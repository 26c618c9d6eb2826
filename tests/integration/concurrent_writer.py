"""A writer process for the concurrency tests: disburses against shared pledges, reports outcomes.

Run as ``python -m tests.integration.concurrent_writer DB RESULT_FILE WRITER_NUMBER``; pledge
ids come from ``derive_id("pledge", "pl-<n>")``. It writes one JSON line per attempt to
RESULT_FILE: the command id, the pledge, the amount, and either the receipt's positions or the
error class the caller was given.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import aidledger
from aidledger.errors import AidLedgerError

PLEDGES = 3
ATTEMPTS = 25
AMOUNT = "7.00"


def main(db: str, result_file: str, writer: int) -> None:
    """Try ATTEMPTS disbursements against random shared pledges and record every outcome."""
    rng = random.Random(writer)
    ledger = aidledger.open(db, recorded_by=f"writer-{writer}")
    with Path(result_file).open("w", encoding="utf-8") as out:
        for attempt in range(ATTEMPTS):
            pledge = rng.randrange(PLEDGES)
            command_id = f"w{writer}-{attempt}"
            outcome: dict[str, object] = {"command_id": command_id, "pledge": pledge, "amount": AMOUNT}
            try:
                receipt = ledger.disburse(
                    command_id=command_id,
                    pledge_id=aidledger.derive_id("pledge", f"pl-{pledge}"),
                    amount=AMOUNT,
                    effective_on="2018-05-01",
                )
                outcome["positions"] = list(receipt.positions)
            except AidLedgerError as error:
                outcome["error"] = type(error).__name__
            out.write(json.dumps(outcome) + "\n")
        # Every writer also repeats one shared command id: exactly one may store it.
        shared: dict[str, object] = {"command_id": "shared", "pledge": 0, "amount": "0.01"}
        try:
            receipt = ledger.disburse(
                command_id="shared",
                recorded_by="shared-writer",  # the same command from every writer, so the same payload
                pledge_id=aidledger.derive_id("pledge", "pl-0"),
                amount="0.01",
                effective_on="2018-05-02",
            )
            shared["positions"] = list(receipt.positions)
        except AidLedgerError as error:
            shared["error"] = type(error).__name__
        out.write(json.dumps(shared) + "\n")
    ledger.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
