"""A user's mistake on ``aidledger site``: one line naming the option, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

import aidledger
from aidledger.cli import main
from aidledger.cli.common import EXIT_INVALID
from aidledger.site import build_site


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    """A ledger of one organization (the site needs no more to be built)."""
    db = tmp_path / "small.db"
    with aidledger.open(str(db), recorded_by="site-tests") as ledger:
        ledger.register_organization(
            command_id="org-1", name="河北乡村发展基金会（示例）", kind="foundation", level="provincial",
            home_region="130000", effective_on="2018-01-05",
        )  # fmt: skip
    return db


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--lang", "fr"], "--lang: got 'fr'"),
        (["--on", "2018-13-01"], "--on: got '2018-13-01'"),
        (["--on", '=HYPERLINK("x")'], "--on: got"),
        (["--position", "999"], "position: got 999; accepted: a log position from 0 to 1"),
        (["--checkpoint", "missing.checkpoint"], "--checkpoint: got"),
    ],
)
def test_a_bad_option_is_named_and_nothing_is_written(
    small_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    """Each refused option gets one error line on stderr, no traceback, and no folder is made."""
    out = tmp_path / "site"
    assert main(["--db", str(small_db), "site", "--out", str(out), *options]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_small_ledger_builds_and_a_second_build_writes_nothing(small_db: Path, tmp_path: Path) -> None:
    """The smallest ledger still gets every page the site always has, and rebuilding changes none."""
    out = tmp_path / "site"
    assert main(["--db", str(small_db), "site", "--out", str(out), "--on", "2018-12-31"]) == 0
    assert {p.name for p in out.iterdir()} >= {"index.html", "verify.html", "style.css", "projects.html"}
    with aidledger.open(str(small_db), read_only=True) as ledger:
        from_library = build_site(ledger, out, on="2018-12-31")
    assert from_library.written == 0 and from_library.unchanged == from_library.pages + 1
