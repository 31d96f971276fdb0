"""Every invoice's decision for one client: read its facts (slice by slice when it is very large), reconcile
and call the pure core (``connector.dunning``) on them — once per invoice per night.

Facts found during the night that the store would only hand back after a write and a re-read (short
payments flagged as disputes, the business register's fresh answers) are added to the facts in memory
(``Known``), so the night decides once with them; the caller still stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from operator import attrgetter

from connector.config import ClientConfig
from connector.dunning.decide import decide, registry_debtors, sort_decisions
from connector.dunning.flag import short_payment_disputes
from connector.engine.slices import Slice, SlicedRun
from connector.engine.spool import Spool
from connector.errors import Refused
from connector.gcpause import gc_paused
from connector.model import Decision, Dispute, Facts, RegistryFact, UnreadableRow
from connector.store import Store
from connector.store.facts import load_facts

# The register's answers for these org nos (asked, or the cache reused while fresh): the ones fetched now.
Lookup = Callable[[set[str]], Iterable[RegistryFact]]


@dataclass(frozen=True)
class Known:
    """Facts known in memory but not (yet) read back from the store, added to each slice's facts as the
    store would return them after writing them."""

    disputes: tuple[Dispute, ...] = ()
    registry: Mapping[str, RegistryFact] = field(default_factory=dict)  # org no → the register's answer

    def add_to(self, facts: Facts) -> Facts:
        if not self.disputes and not self.registry:
            return facts
        disputes = facts.disputes
        if self.disputes:
            # as the store keeps them: a dispute id once (a resolved one is never re-opened), ordered by
            # (opened_on, dispute_id)
            seen = {d.dispute_id for d in disputes}
            new: dict[str, Dispute] = {}
            for d in self.disputes:
                if d.client_id == facts.client_id and d.dispute_id not in seen:
                    new.setdefault(d.dispute_id, d)
            if new:
                disputes = tuple(sorted((*disputes, *new.values()), key=attrgetter("opened_on", "dispute_id")))
        registry = {**facts.registry, **self.registry} if self.registry else facts.registry
        return replace(facts, disputes=disputes, registry=registry)


def decide_client(
    store: Store,
    client: ClientConfig,
    as_of: date,
    quiesce: Callable[[], bool] | None = None,
    *,
    known: Known | None = None,
) -> list[Decision]:
    """Every invoice's decision from the stored facts (plus ``known``). A very large client is matched and
    decided one slice of customers at a time (connector.engine.slices), with the same result as in one
    piece; ``quiesce`` idles other threads so slices may run in two processes."""
    extra = known or Known()

    def work(part: Slice) -> list[Decision]:
        return decide(extra.add_to(part.facts), client, as_of, part.recon)

    decisions: list[Decision] = []
    for decided in SlicedRun(store, client, quiesce=quiesce).map(work):
        decisions.extend(decided)
    return sort_decisions(decisions)


@dataclass(frozen=True)
class Decided:
    """A client's decisions made afresh from the store, with the facts they rest on: what ``arsync explain``
    and the workbench's client and customer pages show (nothing is written)."""

    client: ClientConfig
    as_of: date
    facts: Facts
    decisions: list[Decision]

    def decision(self, invoice: str) -> Decision:
        """The invoice's decision; ``Refused`` (one line) when there is none to explain."""
        found = next((d for d in self.decisions if d.invoice_number == invoice), None)
        if found is not None:
            return found
        if any(i.number == invoice for i in self.facts.invoices):
            raise Refused(
                f"client '{self.client.id}' invoice '{invoice}' was settled more than a while ago: "
                "there is no decision to explain"
            )
        raise Refused(f"client '{self.client.id}' has no invoice '{invoice}' in the store (run `arsync sync` first?)")


def decided(store: Store, client: ClientConfig, as_of: date) -> Decided:
    return Decided(client, as_of, store.read(load_facts, client.id), decide_client(store, client, as_of))


@dataclass
class Night:
    decisions: Collection[Decision]  # in sort_decisions' order; a sliced client's are on disk (engine.spool)
    flagged: list[Dispute]  # short payments after a complaint, found tonight: the caller stores them
    unreadable_rows: list[UnreadableRow] = field(default_factory=list)  # stored rows skipped: the caller reports


@dataclass
class _Survey:
    flagged: list[Dispute]
    debtors: set[str]
    part: Slice | None  # the one slice of a client read in one piece, kept to be decided without a re-read
    unreadable_rows: tuple[UnreadableRow, ...] = ()


def decide_night(
    store: Store,
    client: ClientConfig,
    as_of: date,
    *,
    lookup: Lookup | None = None,
    quiesce: Callable[[], bool] | None = None,
) -> Night:
    """The night's decisions: short payments after a complaint are flagged as disputes and, with ``lookup``
    (the register check is on), the debtors about to escalate are looked up; then every invoice is decided
    once, with both.

    Without ``lookup``: one pass; each slice is flagged and decided with its own flags. With it, the register
    must answer between reading and deciding: a client read in one piece is kept in memory meanwhile; a
    sliced one (read in bounded memory) is read and matched again for the decision."""
    run = SlicedRun(store, client, quiesce=quiesce)
    if lookup is None:

        def flag_and_decide(part: Slice) -> tuple[list[Dispute], list[Decision], tuple[UnreadableRow, ...]]:
            flagged = short_payment_disputes(part.facts, part.recon, as_of)
            decided = decide(Known(tuple(flagged)).add_to(part.facts), client, as_of, part.recon)
            return flagged, decided, part.facts.unreadable_rows

        found: list[Dispute] = []
        spool = Spool()  # a client decided in slices: the decisions on disk, read back in order (engine.spool)
        unreadable: list[UnreadableRow] = []
        for flagged, decided, skipped in run.map(flag_and_decide):
            found.extend(flagged)
            spool.add(sort_decisions(decided))
            unreadable.extend(skipped)
        return Night(spool.result(), _in_order(found), _once(unreadable))

    def survey(part: Slice) -> _Survey:
        flagged = short_payment_disputes(part.facts, part.recon, as_of)
        # a single slice is always worked on in this process (no helper is forked for it)
        debtors = registry_debtors(part.facts, client, part.recon)
        return _Survey(flagged, debtors, part if run.slices == 1 else None, part.facts.unreadable_rows)

    surveys = list(run.map(survey))
    flagged = _in_order(f for s in surveys for f in s.flagged)
    debtors = set().union(*(s.debtors for s in surveys))
    answers = {fact.org_no: fact for fact in lookup(debtors)} if debtors else {}
    known = Known(tuple(flagged), answers)
    unreadable = _once(u for s in surveys for u in s.unreadable_rows)
    if len(surveys) == 1 and (part := surveys[0].part) is not None:
        with gc_paused():  # as the engine runs the core (connector.engine.slices)
            decisions = decide(known.add_to(part.facts), client, as_of, part.recon)
        return Night(decisions, flagged, unreadable)
    return Night(decide_client(store, client, as_of, quiesce, known=known), flagged, unreadable)


def _once(rows: Iterable[UnreadableRow]) -> list[UnreadableRow]:
    """Each skipped row once (every slice reads the client's shared rows)."""
    return list(dict.fromkeys(rows))


def _in_order(disputes: Iterable[Dispute]) -> list[Dispute]:
    return sorted(disputes, key=attrgetter("invoice_number"))  # slices arrive in no particular order
