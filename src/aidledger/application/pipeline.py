"""The one command pipeline: decide commands against aggregates held in memory, then save them.

A :class:`DecisionSession` is a unit of work. Each command given to :meth:`~DecisionSession.decide`
is checked in turn against the session's aggregates: its command id against the commands index
(one read per command, or one per batch with :meth:`~DecisionSession.look_up`) and against the
commands decided earlier in the session, then its rules, by the command's *decision* (see
:mod:`aidledger.application.decisions`). A command that breaks a rule raises and leaves the
session as it was; one that keeps them changes the session's aggregates and yields the stored
events it would write. Nothing is written while deciding: the ledger's ``save`` writes decided
commands, their index rows and the derived state in one transaction.

A single call of a command method is a session of one command. An import decides a whole file
in one session, so its cost is in proportion to the file (and to the aggregates it touches), never
to the history before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Mapper, StoredEvent

from aidledger.application.commands import COMMAND_TIME, Command
from aidledger.application.decisions import DECISIONS
from aidledger.application.mapper import event_of_row
from aidledger.application.ports import CommandRecord, StoredRow
from aidledger.application.views import Receipt
from aidledger.canonical import canonical_bytes
from aidledger.domain.base import LedgerAggregate
from aidledger.domain.organization import Organization
from aidledger.domain.pledge import Pledge
from aidledger.errors import ConcurrencyConflict, IdempotencyConflict, NotFound

__all__ = ["Decided", "DecisionSession", "Outcome", "Repeated"]

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)

CODES_LOOKED_UP_ONE_BY_ONE = 16
"""How many credit codes a session looks up one query each before it reads every stored profile once."""


@dataclass(frozen=True, slots=True)
class Decided:
    """A command whose rules hold, with the events it stores (in order)."""

    command: Command
    digest: str
    aggregate_id: UUID
    events: tuple[StoredEvent, ...]


@dataclass(frozen=True, slots=True)
class Repeated:
    """A command whose id was used before for the same command: it stores nothing.

    ``receipt`` is the first run's receipt when that run is stored; ``None`` when the first run was
    decided earlier in the same session and is not stored yet.
    """

    command: Command
    receipt: Receipt | None


Outcome = Decided | Repeated


class DecisionSession:
    """The aggregates a batch of commands reads and changes, and the command ids it has seen.

    ``load`` reconstructs an aggregate from the store (``eventsourcing``'s repository);
    ``select_commands`` reads the commands index; ``mapper`` turns events into stored events.
    """

    def __init__(
        self,
        load: Callable[[UUID], Any],
        select_commands: Callable[[Sequence[str]], dict[str, CommandRecord]],
        mapper: Mapper[Any],
        *,
        organization_rows: Callable[[bytes | None], Sequence[StoredRow]] = lambda _: (),
        pledge_rows: Callable[[bytes], Sequence[StoredRow]] = lambda _: (),
        allow_disbursing_intended: bool = False,
    ) -> None:
        self._pledge_rows = pledge_rows
        self._pool_pledges: dict[UUID, list[UUID]] = {}
        """Pooled fund -> its stored pledges, in log order (read once per session)."""
        self._load_stored = load
        self._select_commands = select_commands
        self._organization_rows = organization_rows
        self._mapper = mapper
        self._credit_codes: dict[str, set[UUID]] = {}
        """Credit code -> organizations that may hold it: found in the store, or given it in this session."""
        self._every_code_read = False
        self.allow_disbursing_intended = allow_disbursing_intended
        self._aggregates: dict[UUID, LedgerAggregate] = {}
        self._touched: dict[UUID, LedgerAggregate] = {}
        self._spoiled: set[UUID] = set()
        self._stored: dict[str, CommandRecord | None] = {}
        self._decided: dict[str, tuple[str, str]] = {}
        """Command id -> (command name, digest) of the commands decided in this session."""

    # -- the commands index -------------------------------------------------------------------

    def look_up(self, command_ids: Sequence[str]) -> None:
        """Read the index records of many commands at once (before deciding them)."""
        wanted = [command_id for command_id in command_ids if command_id not in self._stored]
        if wanted:
            found = self._select_commands(wanted)
            for command_id in wanted:
                self._stored[command_id] = found.get(command_id)

    def stored_command(self, command_id: str) -> CommandRecord | None:
        """The index record of ``command_id``, read once per session."""
        if command_id not in self._stored:
            self.look_up([command_id])
        return self._stored[command_id]

    # -- deciding -----------------------------------------------------------------------------

    def forget_lookups(self) -> None:
        """Drop the index records read so far (the session still knows the commands it saw)."""
        self._stored.clear()

    def classify(self, command: Command) -> Repeated | None:
        """Whether a command repeats one stored or seen before (``None``: it is new), without
        deciding it; a new command is remembered as seen. Raises :class:`IdempotencyConflict`
        when its id was used for a different command."""
        assert command.command_id is not None
        digest = command.digest()
        repeated = self._repeat(command, digest)
        if repeated is None:
            self._decided[command.command_id] = (command.command_name, digest)
        return repeated

    def decide(self, command: Command) -> Outcome:
        """Decide one command: a repeat, or the events it stores. Raises if it breaks a rule."""
        assert command.command_id is not None
        digest = command.digest()
        repeated = self._repeat(command, digest)
        if repeated is not None:
            return repeated
        self._touched = {}
        token = COMMAND_TIME.set(datetime.now(UTC))
        try:
            aggregate_id, aggregates = DECISIONS[type(command)](command, self)
        except BaseException:
            self._forget_partial_changes()
            raise
        finally:
            COMMAND_TIME.reset(token)
        events: list[StoredEvent] = []
        for aggregate in aggregates:
            self._aggregates[aggregate.id] = aggregate
            if isinstance(aggregate, Organization) and aggregate.profile.credit_code is not None:
                self._candidates(aggregate.profile.credit_code).add(aggregate.id)
            events.extend(self._mapper.to_stored_event(event) for event in aggregate.collect_events())
        self._decided[command.command_id] = (command.command_name, digest)
        return Decided(command, digest, aggregate_id, tuple(events))

    def _repeat(self, command: Command, digest: str) -> Repeated | None:
        """The outcome of a command id used before, or ``None`` when it is new."""
        assert command.command_id is not None
        earlier = self._decided.get(command.command_id)
        stored = self.stored_command(command.command_id) if earlier is None else None
        if earlier is None and stored is None:
            return None
        name, earlier_digest = earlier if earlier is not None else (stored.name, stored.digest)  # type: ignore[union-attr]
        if name != command.command_name or earlier_digest != digest:
            msg = (
                f"command id {command.command_id!r} was already used for a different "
                f"{name} command; reuse a command id only to repeat the same command"
            )
            raise IdempotencyConflict(msg)
        if stored is None:
            return Repeated(command, None)
        receipt = Receipt(
            command_id=stored.command_id,
            command=stored.name,
            aggregate_id=UUID(stored.aggregate_id),
            positions=stored.positions,
            warnings=command.warnings(),
        )
        return Repeated(command, receipt)

    def _forget_partial_changes(self) -> None:
        """After a refused command: drop any aggregate it changed before a later check failed.

        Decisions check every rule before changing anything, so this finds nothing unless a
        decision is wrong; it keeps such a bug from leaking a refused command's events into a
        later command's save.
        """
        for aggregate_id, aggregate in self._touched.items():
            if aggregate.collect_events():
                self._aggregates.pop(aggregate_id, None)
                self._spoiled.add(aggregate_id)

    # -- aggregates ---------------------------------------------------------------------------

    def load(self, aggregate_class: type[TAggregate], aggregate_id: UUID, what: str) -> TAggregate:
        """The aggregate as the session has it: stored, plus what earlier commands changed."""
        if aggregate_id in self._spoiled:
            msg = f"{what} {aggregate_id} was left half changed by a refused command; run the command again"
            raise ConcurrencyConflict(msg)
        aggregate: object = self._aggregates.get(aggregate_id)
        if aggregate is None:
            try:
                aggregate = self._load_stored(aggregate_id)
            except AggregateNotFoundError:
                raise NotFound(f"{what} {aggregate_id} does not exist") from None
            assert isinstance(aggregate, LedgerAggregate), type(aggregate)
            self._aggregates[aggregate_id] = aggregate
        if not isinstance(aggregate, aggregate_class):
            kind = type(aggregate).__name__.lower()
            msg = f"{what} {aggregate_id} does not exist (that id is {'an' if kind[0] in 'aeiou' else 'a'} {kind})"
            raise NotFound(msg)
        self._touched[aggregate_id] = aggregate
        return aggregate

    def credit_code_holder(self, code: str, other_than: UUID) -> Organization | None:
        """The organization other than ``other_than`` whose profile holds credit code ``code`` (as the
        session has it: stored, plus what earlier commands changed), or ``None``."""
        for organization_id in sorted(self._candidates(code) - {other_than}):
            organization = self.load(Organization, organization_id, "organization")
            if organization.profile.credit_code == code:
                return organization
        return None

    def pledges_into(self, project_id: UUID) -> list[Pledge]:
        """The pledges to a project (a pooled fund) as the session has them, in log order: the stored
        ones, then those made earlier in this session, in the order they were decided."""
        stored = self._pool_pledges.get(project_id)
        if stored is None:
            needle = canonical_bytes({"project_id": str(project_id)})[1:-1]
            stored = [UUID(row.originator_id) for row in self._pledge_rows(needle)]
            self._pool_pledges[project_id] = stored
        known = set(stored)
        new = [
            aggregate.id
            for aggregate in self._aggregates.values()
            if isinstance(aggregate, Pledge) and aggregate.id not in known and aggregate.terms.project_id == project_id
        ]
        return [self.load(Pledge, pledge_id, "pledge") for pledge_id in [*stored, *new]]

    def _candidates(self, code: str) -> set[UUID]:
        """The organizations that may hold ``code``: those a stored event gave it, and those given it
        in this session. The first few codes are looked up one by one; after that (an import of many
        organizations) every stored profile is read once."""
        if code in self._credit_codes or self._every_code_read:
            return self._credit_codes.setdefault(code, set())
        if len(self._credit_codes) < CODES_LOOKED_UP_ONE_BY_ONE:
            # The events hold the profile as canonical JSON: the code appears as "credit_code":"…".
            rows = self._organization_rows(canonical_bytes({"credit_code": code})[1:-1])
        else:
            rows, self._every_code_read = self._organization_rows(None), True
        for row in rows:
            event = event_of_row(self._mapper, row)
            assert isinstance(event, (Organization.Registered, Organization.Updated)), type(event)
            if event.profile.credit_code is not None:
                self._credit_codes.setdefault(event.profile.credit_code, set()).add(event.originator_id)
        return self._credit_codes.setdefault(code, set())

    def forget(self, aggregate_ids: Sequence[UUID] | None = None) -> None:
        """Drop aggregates (all when ``None``) so they are read again from the store, e.g. after
        another writer changed them."""
        self._pool_pledges.clear()  # another writer may have pledged into a pool too
        if aggregate_ids is None:
            self._aggregates.clear()
        else:
            for aggregate_id in aggregate_ids:
                self._aggregates.pop(aggregate_id, None)
