"""An SQLite ledger file: closed and reopened it gives the same views; its rows are canonical JSON.

Also: a corrupted row is reported as an unreadable event naming the event, and events stored by
an older version of an event class are upcast when read.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from pydantic import BaseModel
from tests.ledger_fixtures import (
    disburse,
    make_pledge,
    register_organization,
    register_pooled_fund,
    register_project,
)

import aidledger
from aidledger import AidLedger, errors
from aidledger.application.mapper import LedgerMapper
from aidledger.canonical import canonical_json
from aidledger.domain.base import Envelope, LedgerAggregate, LedgerEvent
from aidledger.domain.disbursement import Disbursement
from aidledger.domain.organization import Organization
from aidledger.domain.pledge import Pledge
from aidledger.domain.project import Project


@dataclass(frozen=True)
class History:
    """A ledger file with a varied history, and the ids of what it holds."""

    path: Path
    pledge_id: UUID
    disbursement_id: UUID


def record_varied_history(ledger: AidLedger) -> History:
    """Organizations, projects, a pooled fund, pledges of every kind, disbursements and their fates."""
    donor = register_organization(
        ledger,
        credit_code="91110000600037341L",
        charity=True,
        charity_since="2017-01-01",
        public_fundraising=True,
        public_fundraising_from="2017-06-01",
    )
    chamber = register_organization(
        ledger, name="张家口市工商联", kind="social_group", level="municipal", home_region="130700"
    )
    channel = register_organization(
        ledger, name="某县慈善会", kind="social_group", level="county", home_region="130722"
    )
    ledger.update_organization(organization_id=chamber, level="provincial", effective_on="2018-05-01")
    leaf = register_project(ledger, donor)
    school = register_project(ledger, chamber, title="希望小学", category="public_welfare", field="education")
    fund = register_pooled_fund(ledger, donor)
    doomed = register_project(ledger, chamber, title="取消的项目")
    ledger.start_project(project_id=school, effective_on="2018-03-01")
    ledger.report_beneficiaries(project_id=school, person_times=1200, households=300, effective_on="2018-06-30")
    ledger.record_disclosure(
        project_id=school,
        kind="progress",
        period_start="2018-03-01",
        period_end="2018-05-31",
        channel="慈善中国",
        url="https://cszg.mca.gov.cn/example",
        content_sha256="ab" * 32,
        effective_on="2018-06-15",
    )
    pledge_id = make_pledge(ledger, donor, leaf, "1000.00", channel_id=channel, anonymous=True)
    intended = make_pledge(ledger, chamber, school, "300.50", stage="intended")
    ledger.sign_pledge(pledge_id=intended, effective_on="2018-04-01")
    ledger.amend_pledge(pledge_id=intended, amount="350.75", reason="补充协议", effective_on="2018-04-02")
    in_kind = make_pledge(
        ledger, chamber, school, "8000.00", items=({"description": "冬衣", "quantity": "213", "unit": "件"},)
    )
    make_pledge(ledger, donor, leaf, {"value": "99.99", "currency": "USD"})
    pool_pledge = make_pledge(ledger, donor, fund, "5000.00")
    withdrawn = make_pledge(ledger, chamber, doomed, "10.00")
    ledger.withdraw_pledge(pledge_id=withdrawn, reason="项目取消", effective_on="2018-04-05")
    ledger.cancel_project(project_id=doomed, reason="县里另有安排", effective_on="2018-04-06")
    disbursement_id = disburse(ledger, pledge_id, "400.00")
    ledger.confirm_disbursement(disbursement_id=disbursement_id, effective_on="2018-04-20")
    ledger.return_disbursement(disbursement_id=disbursement_id, amount="0.50", reason="余款", effective_on="2018-07-01")
    mistaken = disburse(ledger, pledge_id, "100.00")
    ledger.reverse_disbursement(disbursement_id=mistaken, reason="重复录入", effective_on="2018-04-12")
    disburse(
        ledger,
        in_kind,
        "8000.00",
        method="goods_delivery",
        items=({"description": "冬衣", "quantity": "213", "unit": "件"},),
    )
    disburse(ledger, pool_pledge, "2000.00")
    regrant = make_pledge(ledger, donor, school, "800.00", funded_from=pool_pledge, effective_on="2018-04-10")
    disburse(ledger, regrant, "800.00")
    ledger.complete_project(project_id=school, effective_on="2018-12-31")
    ledger.deregister_organization(organization_id=channel, reason="合并", effective_on="2018-12-31")
    path = Path(ledger.store.address)
    return History(path, pledge_id, disbursement_id)


VIEWS = {Organization: "organization", Project: "project", Pledge: "pledge", Disbursement: "disbursement"}


def every_view(ledger: AidLedger) -> dict[UUID, BaseModel]:
    """The view of every aggregate in the log, by id, through the ledger's query methods."""
    kinds: dict[UUID, str] = {}
    for _, event in ledger.read_log():
        for aggregate_class, query in VIEWS.items():
            if type(event).__qualname__.startswith(f"{aggregate_class.__name__}."):
                kinds[event.originator_id] = query
    return {aggregate_id: getattr(ledger, query)(aggregate_id) for aggregate_id, query in kinds.items()}


@pytest.fixture
def history(tmp_path: Path) -> History:
    """A closed ledger file holding a varied history."""
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        return record_varied_history(ledger)


def stored_rows(path: Path) -> list[tuple[str, int, str, bytes]]:
    """Every stored event row, in log order, read with plain sqlite3."""
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()


def test_a_reopened_file_gives_the_same_views_and_events(tmp_path: Path) -> None:
    """Every organization, project, pledge and disbursement view, and every event, survives a reopen."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as ledger:
        record_varied_history(ledger)
        views_before = every_view(ledger)
        events_before = list(ledger.read_log())
        position = ledger.position()
    kinds = {type(view).__name__ for view in views_before.values()}
    assert kinds == {"OrganizationView", "ProjectView", "PledgeView", "DisbursementView"}
    with aidledger.open(path, recorded_by="tester") as reopened:
        assert reopened.position() == position
        assert every_view(reopened) == views_before
        assert list(reopened.read_log()) == events_before
        receipt = register_organization(reopened, name="重开后登记")
        assert reopened.organization(receipt).version == 1
        assert reopened.position() == position + 1


def test_open_writes_to_the_file_it_was_given_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aidledger.open(path) opens path, even if the process environment names another database."""
    elsewhere = tmp_path / "elsewhere.db"
    monkeypatch.setenv("AIDLEDGER_SQLITE_DBNAME", str(elsewhere))
    with aidledger.open(tmp_path / "ledger.db", recorded_by="tester") as ledger:
        register_organization(ledger)
    assert not elsewhere.exists()
    assert len(stored_rows(tmp_path / "ledger.db")) == 1


def test_reopened_money_keeps_its_exact_decimals(history: History) -> None:
    """Amounts come back as the same Decimals, to the fen, not floats."""
    with aidledger.open(history.path, recorded_by="tester") as ledger:
        pledge = ledger.pledge(history.pledge_id)
        disbursement = ledger.disbursement(history.disbursement_id)
    assert (pledge.amount.value, pledge.net_disbursed, pledge.outstanding) == (
        Decimal("1000.00"),
        Decimal("399.50"),
        Decimal("600.50"),
    )
    assert str(pledge.outstanding) == "600.50"
    assert (disbursement.returned, disbursement.confirmed) == (Decimal("0.50"), True)


def _pairs_in_order(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert keys == sorted(keys), f"keys not sorted: {keys}"
    return dict(pairs)


def _no_floats(text: str) -> Any:
    raise AssertionError(f"a JSON float {text} in stored state; decimals are stored as strings")


def test_stored_state_is_canonical_json_with_decimals_as_strings(history: History) -> None:
    """Keys sorted at every level, no whitespace, no floats, amounts like "1000.00", dates ISO."""
    rows = stored_rows(history.path)
    assert rows
    for _, _, _, state in rows:
        data = json.loads(state, object_pairs_hook=_pairs_in_order, parse_float=_no_floats)
        assert canonical_json(data) == state
    made = next(
        json.loads(state)
        for originator_id, version, topic, state in rows
        if originator_id == history.pledge_id.hex and version == 1
    )
    assert made["terms"]["amount"] == {"currency": "CNY", "value": "1000.00"}
    assert made["effective_on"] == "2018-03-05"
    disbursed = [json.loads(state) for *_, topic, state in rows if topic.endswith("Pledge.Disbursed")]
    assert {"amount": "400.00"}.items() <= disbursed[0].items()


@pytest.mark.parametrize(
    ("column", "corruption"),
    [
        pytest.param("state", b'{"terms": {"amount"', id="truncated-json"),
        pytest.param("state", b"\xff\xfe not utf-8", id="not-utf8"),
        pytest.param("state", b"[1, 2, 3]", id="not-an-object"),
        pytest.param("state", b'{"stage": "signed"}', id="missing-fields"),
        pytest.param("topic", "aidledger.domain.pledge:Pledge.Vanished", id="unknown-event-class"),
        pytest.param("topic", "aidledger.domain.vanished:Thing.Happened", id="unknown-module"),
    ],
)
def test_a_corrupted_row_is_reported_as_an_unreadable_event_naming_it(
    history: History, column: str, corruption: bytes | str
) -> None:
    """Reading a damaged event raises UnreadableEvent (an IntegrityFailure) naming the event."""
    with closing(sqlite3.connect(history.path)) as raw:
        changed = raw.execute(
            f"UPDATE stored_events SET {column}=? WHERE originator_id=? AND originator_version=1",
            (corruption, history.pledge_id.hex),
        ).rowcount
        raw.commit()
    assert changed == 1
    with aidledger.open(history.path, recorded_by="tester") as ledger:
        with pytest.raises(errors.UnreadableEvent) as caught:
            ledger.pledge(history.pledge_id)
        assert isinstance(caught.value, errors.IntegrityFailure)
        assert f"{history.pledge_id} v1" in str(caught.value)
        with pytest.raises(errors.UnreadableEvent, match=str(history.pledge_id)):
            list(ledger.read_log())
        assert ledger.disbursement(history.disbursement_id).confirmed  # other aggregates still read


# -- upcasting ------------------------------------------------------------------------------------


class Gadget(LedgerAggregate):
    """A test-only aggregate whose Painted event gained a field in its version 2."""

    if TYPE_CHECKING:
        label: str
        finish: str

    class Registered(LedgerAggregate.Created):
        """The gadget was registered."""

        label: str

        def apply(self, aggregate: Any) -> None:
            aggregate.label = self.label
            aggregate.finish = "none"

    class Painted(LedgerAggregate.Event):
        """The gadget was painted; version 2 added ``finish``, which version 1 rows lack."""

        class_version: ClassVar[int] = 2

        colour: str
        finish: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 paint was always matte."""
            state["finish"] = "matte"

        def apply(self, aggregate: Any) -> None:
            aggregate.finish = self.finish


ENVELOPE = Envelope(recorded_by="tester", effective_on=date(2018, 8, 1), command_id="gadget-1")
GADGET_ID = UUID("00000000-0000-4000-8000-000000000001")


def painted_gadget() -> Gadget:
    """A gadget registered and painted gloss red, not yet saved."""
    gadget: Gadget = Gadget.create(Gadget.Registered, GADGET_ID, ENVELOPE, label="test")
    gadget.record(Gadget.Painted, ENVELOPE, colour="red", finish="gloss")
    return gadget


def version_1_state(event: LedgerEvent) -> bytes:
    """The stored state version 1 of Painted would have written: no finish, no class_version."""
    state = event.model_dump(mode="json", exclude={"originator_id", "originator_version", "finish"})
    return canonical_json(state)


def test_the_mapper_writes_the_class_version_of_a_newer_event() -> None:
    """A version 2 event is stored with "class_version": 2; version 1 events carry none."""
    mapper = LedgerMapper()
    registered, painted = painted_gadget().collect_events()
    assert "class_version" not in json.loads(mapper.to_stored_event(registered).state)
    stored = mapper.to_stored_event(painted)
    assert json.loads(stored.state)["class_version"] == 2
    assert json.loads(stored.state)["finish"] == "gloss"
    assert mapper.to_domain_event(stored) == painted  # the current version is not upcast again


def test_the_mapper_upcasts_a_version_1_event_when_reading_it() -> None:
    """A stored version 1 Painted event is read as version 2 with the upcaster's finish."""
    mapper = LedgerMapper()
    _, painted = painted_gadget().collect_events()
    assert isinstance(painted, Gadget.Painted)
    old = StoredEvent(
        originator_id=GADGET_ID,
        originator_version=2,
        topic=get_topic(Gadget.Painted),
        state=version_1_state(painted),
    )
    read = mapper.to_domain_event(old)
    assert isinstance(read, Gadget.Painted)
    assert (read.colour, read.finish, read.originator_version) == ("red", "matte", 2)


def test_version_1_rows_in_a_ledger_file_are_upcast_when_the_aggregate_is_read(tmp_path: Path) -> None:
    """Rows written before Painted gained ``finish`` still load, with the upcaster's value."""
    path = tmp_path / "ledger.db"
    with aidledger.open(path, recorded_by="tester") as ledger:
        ledger.save(painted_gadget())
    with closing(sqlite3.connect(path)) as raw:
        (state,) = raw.execute(
            "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=2", (GADGET_ID.hex,)
        ).fetchone()
        old = {key: value for key, value in json.loads(state).items() if key not in ("finish", "class_version")}
        raw.execute(
            "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=2",
            (canonical_json(old), GADGET_ID.hex),
        )
        raw.commit()
    with aidledger.open(path, recorded_by="tester") as reopened:
        loaded: object = reopened.repository.get(GADGET_ID)
        assert isinstance(loaded, Gadget)
        assert (loaded.label, loaded.finish, loaded.version) == ("test", "matte", 2)
