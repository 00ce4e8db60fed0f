"""Split runs: from undistributed revenue to what each rights-holder is owed.

A split run for period P reads its inputs from the ledger itself: the
undistributed revenue posted in P by imports, suspense releases and import
reversals, summed per track, source, territory, usage type, usage period and
currency. Each group is resolved through the agreements in force
(:mod:`ledger.domain.rules`) and split exactly (:mod:`ledger.domain.allocation`).

For every shareholder the run posts the gross share (``earned``) and, as a
separate leg, their part of the fees taken before the split (``fees``, shared
in proportion to the split); fee recipients get the fee (``fee``). Parts
that belong to the operator go to income. Groups no agreement covers go to
suspense with the reason, never dropped.

A run is recorded with the hash of its inputs (revenue groups, agreement and
attribution documents, contributions). The desired postings are compared with
what earlier runs for P posted; only the difference is posted, so a rerun on
the same inputs posts nothing, and a rerun after a correction posts
adjustment entries (in P if it is open, else in the next open period) linked
to the run they adjust. ``dry_run`` computes that difference without posting.

After the split, recoupable advances are recouped from the party's payable
balance in entries of their own.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring_ascii as _json_text  # json.dumps's, for str
from math import lcm
from operator import add, neg
from typing import Any, Final

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger.domain.agreements import Agreement
from ledger.domain.allocation import Splitter
from ledger.domain.catalog import Catalog
from ledger.domain.errors import Conflict
from ledger.domain.money import from_units, parts_to_units, to_text
from ledger.domain.periods import parse_period
from ledger.domain.rules import Resolver, SharePlan, Unresolved
from ledger.store import accounts, documents, journal, settings
from ledger.store.bulkwork import collector_paused
from ledger.store.journal import EntryDraft, Leg
from ledger.store.models import Period, SplitRun

EARNED, FEES, FEE, SUSPENSE = "earned", "fees", "fee", "no agreement"
_EARNED_MEMOS: Final = frozenset({EARNED, FEE, SUSPENSE})  # memos of what a party earns

# (account, isrc, source, territory, usage, usage_period, currency, rule_ref, memo)
_Key = tuple[str, str, str, str, str, str, str, str, str]
_Group = tuple[
    str, str, str, str, str, str
]  # isrc, source, territory, usage, usage_period, currency


@dataclass(frozen=True, slots=True)
class PartyChange:
    party_id: str
    account: str
    currency: str
    earned: Decimal
    fees: Decimal
    net: Decimal


@dataclass(frozen=True, slots=True)
class SplitResult:
    period: str
    posted_in: str | None
    run_id: int | None
    adjusts_run_id: int | None
    inputs_hash: str
    revenue: Decimal
    currency: str
    groups: int
    entries: int
    legs: int
    unchanged: bool
    dry_run: bool
    changes: tuple[PartyChange, ...]
    suspense: Decimal
    """Revenue of the period that no agreement covers (held in suspense)."""
    recoupments: tuple[tuple[str, Decimal], ...] = ()
    problems: tuple[str, ...] = field(default=())


def _units_of(whole: Any, frac: Any) -> int:
    return parts_to_units(whole, frac)


_Tracks = dict[str, dict[_Group, tuple[int, int]]]  # per ISRC: per group (units, quantity)


def _inputs(session: Session, period: str) -> _Tracks:
    """Undistributed revenue of the period per track and group: (units of revenue, quantity).

    A period has hundreds of thousands of groups but a few sources, territories,
    usage types and months: each text is kept once (a 1M-line period's inputs
    take 50 MB instead of 118 MB).
    """
    rows = session.execute(
        text(
            """
            SELECT p.isrc, p.source, p.territory, p.usage, p.usage_period, p.currency,
                   SUM(p.amount_whole), SUM(p.amount_frac)
            FROM posting p
            JOIN journal_entry e ON e.id = p.entry_id
            JOIN account a ON a.id = p.account_id
            WHERE a.code = :acct AND e.period = :period
              AND (e.source_ref IS NULL OR e.source_ref NOT LIKE 'split:%')
            GROUP BY p.isrc, p.source, p.territory, p.usage, p.usage_period, p.currency
            """
        ),
        {"acct": accounts.UNDISTRIBUTED, "period": period},
    )
    texts: dict[str, str] = {}
    one = texts.setdefault
    tracks: _Tracks = {}
    for isrc, src, terr, usage, uperiod, ccy, whole, frac in rows:
        units = -_units_of(whole, frac)  # credits are negative; revenue is positive
        if units:
            isrc = one(isrc or "", isrc or "")
            group = (
                isrc,
                one(src or "", src or ""),
                one(terr or "", terr or ""),
                one(usage or "", usage or ""),
                one(uperiod or period, uperiod or period),
                one(ccy, ccy),
            )
            track = tracks.get(isrc)
            if track is None:
                track = tracks[isrc] = {}
            track[group] = (units, 0)
    # quantities come from the stored lines behind those postings: the period's imported
    # lines not held in suspense, and suspense lines released into this period
    for isrc, src, terr, usage, uperiod, ccy, qty in session.execute(
        text(
            """
            SELECT l.isrc, l.source, l.territory, l.usage, l.usage_period, l.currency, SUM(l.quantity)
            FROM revenue_line l JOIN revenue_import i ON i.id = l.import_id
            WHERE i.status = 'posted' AND (
                (i.period = :period AND l.suspense_reason IS NULL)
                OR (l.suspense_reason IS NOT NULL AND EXISTS (
                    SELECT 1 FROM suspense_release r JOIN journal_entry e ON e.id = r.entry_id
                    WHERE r.import_id = l.import_id AND r.isrc = l.isrc AND e.period = :period)))
            GROUP BY l.isrc, l.source, l.territory, l.usage, l.usage_period, l.currency
            """
        ),
        {"period": period},
    ):
        track = tracks.get(isrc)
        if track is not None:
            key = (isrc, src, terr, usage, uperiod, ccy)
            found = track.get(key)
            if found is not None:
                track[key] = (found[0], int(qty))
    return tracks


def _already(session: Session, period: str) -> dict[_Key, int]:
    rows = session.execute(
        text(
            """
            SELECT a.code, p.isrc, p.source, p.territory, p.usage, p.usage_period, p.currency,
                   p.rule_ref, p.memo, SUM(p.amount_whole), SUM(p.amount_frac)
            FROM posting p
            JOIN journal_entry e ON e.id = p.entry_id
            JOIN account a ON a.id = p.account_id
            WHERE e.source_ref = :ref
            GROUP BY a.code, p.isrc, p.source, p.territory, p.usage, p.usage_period, p.currency,
                     p.rule_ref, p.memo
            """
        ),
        {"ref": f"split:{period}"},
    )
    out: dict[_Key, int] = {}
    for code, isrc, src, terr, usage, uperiod, ccy, rule, memo, whole, frac in rows:
        units = _units_of(whole, frac)
        if units:
            out[
                (
                    code,
                    isrc or "",
                    src or "",
                    terr or "",
                    usage or "",
                    uperiod or "",
                    ccy,
                    rule or "",
                    memo or "",
                )
            ] = units
    return out


def _account(party_id: str, operator: str, kind: str) -> str:
    if party_id == operator:
        return accounts.FEES if kind == "fee" else "income:share"
    return accounts.payable(party_id)


# A leg of a group, as (account, rule_ref, memo); its dimensions are the group's.
_Slot = tuple[str, str, str]


@dataclass(frozen=True, slots=True, eq=False)
class _Sheet:
    """A share plan (or a reason for suspense) compiled for posting groups.

    Every group gets the legs in ``slots`` (slot 0: the undistributed revenue it
    takes), with the group's dimensions; parts of the plan that land on the same
    leg share a slot. Shareholders also get their part of the fees on a FEES leg
    per track and usage month. A split run applies a few sheets to many groups,
    so accounts, refs and the allocations are worked out once here.
    """

    slots: tuple[_Slot, ...]
    # per account, its slots in (rule_ref, memo) order, as (slot, rule_ref, memo) with
    # None for an empty text, as legs hold them
    by_account: dict[str, tuple[tuple[int, str | None, str | None], ...]]
    plan: SharePlan | None = None
    fee_slots: tuple[int, ...] = ()  # slot of each fee
    share_slots: tuple[int, ...] = ()  # slot of each share
    shares: tuple[tuple[str, str], ...] = ()  # (account, rule_ref) of each share
    burden: Splitter[int] | None = None  # the fees, in proportion to the shares
    # the plan's one allocation, if it has one; ``plain``: slots 1.. are fees + shares
    splitter: Splitter[Any] | None = None
    plain: bool = False

    @staticmethod
    def _layout(
        slots: list[_Slot],
    ) -> tuple[dict[_Slot, int], dict[str, tuple[tuple[int, str | None, str | None], ...]]]:
        """Slots numbered (the same leg once) and listed per account in key order."""
        index = {slot: i for i, slot in enumerate(dict.fromkeys(slots))}
        by_account: dict[str, list[tuple[int, str | None, str | None]]] = defaultdict(list)
        for (account, rule_ref, memo), i in sorted(index.items()):
            by_account[account].append((i, rule_ref or None, memo or None))
        return index, {a: tuple(v) for a, v in by_account.items()}

    @classmethod
    def for_plan(cls, plan: SharePlan, operator: str) -> _Sheet:
        fee_slots = [(_account(f.party_id, operator, "fee"), f.rule_ref, FEE) for f in plan.fees]
        shares = [(_account(s.party_id, operator, "share"), s.rule_ref) for s in plan.shares]
        share_slots = [(account, ref, EARNED) for account, ref in shares]
        index, by_account = cls._layout([_UNDISTRIBUTED, *fee_slots, *share_slots])
        weights = [s.share for s in plan.shares]
        if not any(weights):
            weights = [Fraction(1)] * len(weights)
        common = lcm(*(w.denominator for w in weights))
        burden = Splitter({i: int(w * common) for i, w in enumerate(weights)}) if weights else None
        parts = tuple(index[s] for s in fee_slots + share_slots)
        return cls(
            slots=tuple(index),
            by_account=by_account,
            plan=plan,
            fee_slots=parts[: len(fee_slots)],
            share_slots=parts[len(fee_slots) :],
            shares=tuple(shares),
            burden=burden if plan.fees else None,
            splitter=plan.splitter,
            plain=parts == tuple(range(1, len(index))),
        )

    @classmethod
    def for_suspense(cls, code: str) -> _Sheet:
        index, by_account = cls._layout(
            [_UNDISTRIBUTED, (accounts.SUSPENSE, f"suspense:{code}", SUSPENSE)]
        )
        return cls(slots=tuple(index), by_account=by_account)

    def values(self, units: int, quantity: int) -> tuple[list[int], list[int] | None]:
        """Signed units per slot for a group of ``units`` revenue, and each share's part
        of the fees (None without fees or shares)."""
        plan = self.plan
        if plan is None:  # suspense
            return [units, -units], None
        splitter = self.splitter
        # fees first, then shares, in order
        split = splitter.split(units) if splitter is not None else plan.split_list(units, quantity)
        if self.plain:  # one slot per part: the common case, in list operations
            n_fees = len(self.fee_slots)
            fee_units = split[0] if n_fees == 1 else sum(split[:n_fees])
            if not fee_units or self.burden is None:
                return [units, *map(neg, split)], None
            burden = self.burden.split(fee_units)
            fees, shares = split[:n_fees], split[n_fees:]
            return [units, *map(neg, fees), *map(neg, map(add, shares, burden))], burden
        values = [0] * len(self.slots)
        values[0] = units
        fee_units = 0
        for slot, part in zip(self.fee_slots, split, strict=False):
            values[slot] -= part
            fee_units += part
        n_fees = len(self.fee_slots)
        if not fee_units or self.burden is None:
            for slot, part in zip(self.share_slots, split[n_fees:], strict=True):
                values[slot] -= part
            return values, None
        burden = self.burden.split(fee_units)
        for slot, part, fee_part in zip(self.share_slots, split[n_fees:], burden, strict=True):
            values[slot] -= part + fee_part
        return values, burden


_UNDISTRIBUTED: Final[_Slot] = (accounts.UNDISTRIBUTED, "", "")


class _Sheets:
    """The sheets of one run: per share plan (the resolver caches plans) and per reason."""

    def __init__(self, resolver: Resolver, operator: str) -> None:
        self.lookup = resolver.lookup
        self.operator = operator
        self._plans: dict[int, tuple[SharePlan, _Sheet]] = {}  # id(plan): the plan is kept
        self._suspense: dict[str, _Sheet] = {}

    def of(self, plan: SharePlan) -> _Sheet:
        found = self._plans.get(id(plan))
        if found is None:
            found = self._plans[id(plan)] = (plan, _Sheet.for_plan(plan, self.operator))
        return found[1]

    def suspense(self, code: str) -> _Sheet:
        found = self._suspense.get(code)
        if found is None:
            found = self._suspense[code] = _Sheet.for_suspense(code)
        return found


@dataclass(slots=True)
class _TrackSplit:
    """One track's split: per group (sorted) its sheet and slot values, and the
    shareholders' parts of the fees per (account, usage period, currency, rule_ref)."""

    isrc: str
    groups: list[tuple[_Group, _Sheet, list[int]]]
    fees: dict[tuple[str, str, str, str], int]
    suspense: int
    reasons: list[str]

    def desired(self) -> dict[_Key, int]:
        """Signed units per leg key, zeros left out (every key comes from one slot)."""
        legs: dict[_Key, int] = {}
        for group, sheet, values in self.groups:
            for (account, rule_ref, memo), units in zip(sheet.slots, values, strict=True):
                if units:
                    legs[(account, *group, rule_ref, memo)] = units
        for (account, uperiod, ccy, rule_ref), units in self.fees.items():
            if units:
                legs[(account, self.isrc, "", "", "", uperiod, ccy, rule_ref, FEES)] = units
        return legs

    def legs(self) -> list[Leg]:
        """The legs in key order, as :meth:`desired` sorted, built without sorting.

        Order of keys: account, then the group's dimensions, rule_ref and memo.
        Within an account the groups come sorted and a sheet's slots are in
        (rule_ref, memo) order; the FEES legs (no source) come first, which holds
        when every group has a source (the caller checks).
        """
        isrc = self.isrc or None
        names = {a for _, sheet, _ in self.groups for a in sheet.by_account}
        fees_by_account: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
        for (account, month, ccy, ref), units in sorted(self.fees.items()):
            if units:
                fees_by_account[account].append((month, ccy, ref, units))
                names.add(account)
        rows = [
            (g[5], g[1] or None, g[2] or None, g[3] or None, g[4] or None, sheet, values)
            for g, sheet, values in self.groups
        ]
        out: list[Leg] = []
        append = out.append
        for account in sorted(names):
            for month, ccy, ref, units in fees_by_account.get(account, ()):
                append(
                    Leg(
                        account,
                        units,
                        ccy,
                        isrc,
                        None,
                        None,
                        None,
                        ref or None,
                        FEES,
                        month or None,
                    )
                )
            for ccy, src, terr, usage, uperiod, sheet, values in rows:
                found = sheet.by_account.get(account)
                if found is None:
                    continue
                for i, rule_ref, memo in found:
                    units = values[i]
                    if units:
                        append(
                            Leg(
                                account, units, ccy, isrc, src, terr, usage, rule_ref, memo, uperiod
                            )
                        )
        return out


def _split_track(
    isrc: str, groups: dict[_Group, tuple[int, int]], sheets: _Sheets, max_reasons: int = 20
) -> _TrackSplit:
    """Split one track's groups (pure): each by its sheet, or to suspense with a reason
    (the first ``max_reasons`` of them in words)."""
    burdens: dict[tuple[_Sheet, str, str], list[int]] = {}  # per sheet, month, currency
    done: list[tuple[_Group, _Sheet, list[int]]] = []
    suspense = 0
    reasons: list[str] = []
    lookup = sheets.lookup
    for group in sorted(groups):
        units, quantity = groups[group]
        _, src, terr, usage, uperiod, ccy = group
        plan = lookup(group[0], src, terr, usage, uperiod, ccy)
        if isinstance(plan, Unresolved):
            sheet = sheets.suspense(plan.code)
            suspense += units
            if len(reasons) < max_reasons:
                error = plan.for_line(group[0], src, terr, usage, uperiod)
                reasons.append(f"{group[0]} {src} {terr} {usage} {uperiod}: {error.message}")
            done.append((group, sheet, [units, -units]))
            continue
        sheet = sheets.of(plan)
        values, burden = sheet.values(units, quantity)
        done.append((group, sheet, values))
        if burden is not None:
            # A holder's part of the fees is kept per track and usage month, not
            # per source and territory: it is one figure on their statement, and
            # it keeps the split's posting count close to one leg per share.
            key = (sheet, uperiod, ccy)
            summed = burdens.get(key)
            burdens[key] = burden if summed is None else list(map(add, summed, burden))
    fees: dict[tuple[str, str, str, str], int] = {}
    for (sheet, uperiod, ccy), burden in burdens.items():
        for (account, rule_ref), part in zip(sheet.shares, burden, strict=True):
            leg = (account, uperiod, ccy, rule_ref)
            fees[leg] = fees.get(leg, 0) + part
    return _TrackSplit(isrc, done, fees, suspense, reasons)


def desired_postings(
    groups: dict[_Group, tuple[int, int]], resolver: Resolver, operator: str
) -> tuple[dict[_Key, int], int, list[str]]:
    """What the split of these groups should have posted in total (pure).

    Returns the legs (signed units per key), the units sent to suspense, and
    the reasons lines went to suspense. Each group takes its revenue from
    ``revenue:undistributed``; the fees go to their recipients (``fee``), each
    shareholder gets their share plus their part of the fees (``earned``) and
    gives that part back on a leg per track and usage month (``fees``). A
    group no agreement covers goes to suspense.
    """
    sheets = _Sheets(resolver, operator)
    by_track: dict[str, dict[_Group, tuple[int, int]]] = defaultdict(dict)
    for group, value in groups.items():
        by_track[group[0]][group] = value
    legs: dict[_Key, int] = {}
    suspense = 0
    reasons: list[str] = []
    for isrc in sorted(by_track):
        track = _split_track(isrc, by_track[isrc], sheets, 20 - len(reasons))
        legs.update(track.desired())
        suspense += track.suspense
        reasons += track.reasons
    return legs, suspense, reasons


def _inputs_hash(tracks: _Tracks, docs: list[Any], catalog: Catalog) -> str:
    """SHA-256 over the groups in order (each as the JSON text of its fields, units and
    quantity), the documents and the contributions."""
    digest = hashlib.sha256()
    for isrc in sorted(tracks):
        groups = tracks[isrc]
        digest.update("".join([_group_json(g, *groups[g]) for g in sorted(groups)]).encode())
    digest.update(json.dumps(docs).encode())
    for c in sorted(catalog.contributions, key=lambda c: (c.isrc, c.party_id, c.role)):
        digest.update(f"{c.isrc}|{c.party_id}|{c.role}|{c.weight}".encode())
    return digest.hexdigest()


def _group_json(group: _Group, units: int, quantity: int) -> str:
    """``json.dumps([*group, units, quantity])``, built directly (200k groups a run)."""
    return f"[{', '.join(map(_json_text, group))}, {units!r}, {quantity!r}]"


def run_split(session: Session, period: str, *, dry_run: bool = False) -> SplitResult:
    """Split the period's undistributed revenue; post only what changed (see module doc)."""
    with collector_paused():
        return _run_split(session, period, dry_run=dry_run)


def _run_split(session: Session, period: str, *, dry_run: bool) -> SplitResult:
    period = parse_period(period)
    ccy = settings.ledger_currency(session)
    catalog = documents.current_catalog(session)
    agreements = documents.stored_agreements(session, catalog)
    attribution = documents.attribution_reports(session, catalog)
    by_track = _inputs(session, period)
    docs = [
        documents.agreement_documents(session),
        documents.attribution_documents(session),
    ]
    inputs_hash = _inputs_hash(by_track, docs, catalog)
    revenue = from_units(sum(u for groups in by_track.values() for u, _ in groups.values()))
    n_groups = sum(len(groups) for groups in by_track.values())
    last = session.scalars(
        select(SplitRun).where(col(SplitRun.period) == period).order_by(col(SplitRun.id).desc())
    ).first()

    sheets = _Sheets(Resolver(agreements, catalog, attribution), catalog.operator_id)
    tally = _Tally()
    already_by_track: dict[str, dict[_Key, int]] = defaultdict(dict)

    def deltas() -> Iterator[tuple[str, tuple[Leg, ...]]]:
        """Track by track, so memory holds one track's postings, not the period's."""
        for isrc in sorted(by_track.keys() | already_by_track.keys()):
            track = _split_track(
                isrc, by_track.pop(isrc, {}), sheets, max(0, 20 - len(tally.reasons))
            )
            already = already_by_track.pop(isrc, {})
            if not already and all(group[1] for group, _, _ in track.groups):
                legs = track.legs()  # the common case: the first run, sources known
            else:
                legs = _difference(track.desired(), already)
            tally.add(legs, track.suspense, track.reasons)
            if legs:
                yield isrc, tuple(legs)

    def result(**kw: Any) -> SplitResult:
        return SplitResult(
            period=period,
            inputs_hash=inputs_hash,
            revenue=revenue,
            currency=ccy,
            groups=n_groups,
            changes=tally.changes(),
            suspense=from_units(tally.suspense),
            problems=tuple(tally.reasons),
            **kw,
        )

    if not dry_run and last is not None and last.inputs_hash == inputs_hash:
        # Same revenue, documents and contributions: the ledger already holds this split.
        return result(
            posted_in=last.posted_in,
            run_id=last.id,
            adjusts_run_id=last.adjusts_run_id,
            entries=0,
            legs=0,
            unchanged=True,
            dry_run=False,
        )
    for key, units in _already(session, period).items():  # what earlier runs posted
        already_by_track[key[1]][key] = units
    if dry_run:
        for _ in deltas():
            pass
        return result(
            posted_in=None,
            run_id=None,
            adjusts_run_id=last.id if last else None,
            entries=0,
            legs=tally.legs,
            unchanged=not tally.legs,
            dry_run=True,
        )

    posted_in = journal.open_period_for(session, period)
    run = SplitRun(
        period=period,
        posted_in=posted_in,
        inputs_hash=inputs_hash,
        inputs=json.dumps(_record(session, period, docs)),
        totals="{}",
        adjusts_run_id=last.id if last else None,
        created_at=datetime.now(UTC),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    entries = journal.post_many(
        session,
        _drafts(deltas(), run.id, period, posted_in, adjusting=last is not None),
    )
    first_entry = None
    if entries:
        first_entry = session.execute(
            text("SELECT MIN(id) FROM journal_entry WHERE idempotency_key LIKE :k"),
            {"k": f"split:{period}:run{run.id}:%"},
        ).scalar()
    recouped = recoup(session, period, posted_in, catalog, agreements, run.id)
    changes = tally.changes()
    run.entry_id = first_entry
    run.totals = json.dumps({c.account: to_text(c.net) for c in changes})
    session.add(run)
    session.flush()
    return result(
        posted_in=posted_in,
        run_id=run.id,
        adjusts_run_id=run.adjusts_run_id,
        entries=entries,
        legs=tally.legs,
        unchanged=not tally.legs,
        dry_run=False,
        recoupments=recouped,
    )


@dataclass(slots=True)
class _Tally:
    """What a run changes, accumulated track by track."""

    legs: int = 0
    suspense: int = 0
    reasons: list[str] = field(default_factory=list)
    per_account: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )

    def add(self, legs: list[Leg], suspense_units: int, reasons: list[str]) -> None:
        self.legs += len(legs)
        self.suspense += suspense_units
        self.reasons.extend(reasons[: max(0, 20 - len(self.reasons))])
        per_account = self.per_account
        for leg in legs:
            account = leg.account
            if account == accounts.UNDISTRIBUTED:
                continue
            memo = leg.memo
            if memo in _EARNED_MEMOS:
                per_account[(account, leg.currency)][0] -= leg.units
            elif memo == FEES:
                per_account[(account, leg.currency)][1] += leg.units

    def changes(self) -> tuple[PartyChange, ...]:
        out = []
        for (account, ccy), (earned, fees) in sorted(self.per_account.items()):
            party = accounts.party_of(account) or account
            out.append(
                PartyChange(
                    party,
                    account,
                    ccy,
                    from_units(earned),
                    from_units(fees),
                    from_units(earned - fees),
                )
            )
        return tuple(out)


def _difference(desired: dict[_Key, int], already: dict[_Key, int]) -> list[Leg]:
    """The legs that bring what is posted (``already``) to ``desired``, in key order."""
    delta = {k: desired.get(k, 0) - already.get(k, 0) for k in desired.keys() | already.keys()}
    return [
        Leg(
            k[0],
            u,
            k[6],
            k[1] or None,
            k[2] or None,
            k[3] or None,
            k[4] or None,
            k[7] or None,
            k[8] or None,
            k[5] or None,
        )
        for k, u in sorted(delta.items())
        if u
    ]


def _drafts(
    deltas: Iterable[tuple[str, tuple[Leg, ...]]],
    run_id: int,
    period: str,
    posted_in: str,
    *,
    adjusting: bool,
) -> Iterator[EntryDraft]:
    """One entry per track: the track's difference between desired and posted."""
    kind = "adjustment" if adjusting else "split"
    verb = "Adjustment of the split" if adjusting else "Split"
    for isrc, legs in deltas:
        yield EntryDraft(
            key=f"split:{period}:run{run_id}:{isrc}",
            period=posted_in,
            kind=kind,
            description=f"{verb} of {period} (run #{run_id}), track {isrc or '(none)'}",
            legs=legs,
            source_ref=f"split:{period}",
        )


def _record(session: Session, period: str, docs: list[Any]) -> dict[str, Any]:
    imports = [
        int(r[0])
        for r in session.execute(
            text(
                "SELECT id FROM revenue_import WHERE period = :p AND status = 'posted' ORDER BY id"
            ),
            {"p": period},
        )
    ]
    return {"imports": imports, "agreements": docs[0], "attribution": docs[1]}


# ---------------------------------------------------------------------------
# Advances and recoupment


def _balance(session: Session, account: str, ccy: str) -> int:
    row = session.execute(
        text(
            "SELECT COALESCE(SUM(p.amount_whole), 0), COALESCE(SUM(p.amount_frac), 0) FROM posting p "
            "JOIN account a ON a.id = p.account_id WHERE a.code = :c AND p.currency = :ccy"
        ),
        {"c": account, "ccy": ccy},
    ).one()
    return _units_of(row[0], row[1])


def _outstanding_advances(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        text(
            "SELECT a.party_id, p.currency, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN account a ON a.id = p.account_id WHERE a.code LIKE 'advance:%' "
            "GROUP BY a.party_id, p.currency ORDER BY a.party_id, p.currency"
        )
    )
    return [(party, ccy) for party, ccy, whole, frac in rows if _units_of(whole, frac) > 0]


def recoup(
    session: Session,
    period: str,
    posted_in: str,
    catalog: Catalog,
    agreements: tuple[Agreement, ...],
    run_id: int,
) -> tuple[tuple[str, Decimal], ...]:
    """Record advances of agreements in force (once), then recoup every outstanding
    advance from the party's payable balance."""
    from ledger.domain.agreements import current_versions

    in_force = [a for a in current_versions(agreements) if a.in_force(period)]
    advances: dict[tuple[str, str], list[tuple[str, Decimal, str]]] = defaultdict(list)
    for a in in_force:
        for adv in a.advances:
            advances[(adv.party_id, adv.currency)].append((a.id, adv.amount, adv.description))
    for (party_id, ccy), items in sorted(advances.items()):
        if party_id == catalog.operator_id:
            continue
        for agreement_id, amount, description in items:
            key = f"advance:{agreement_id}:{party_id}:{ccy}"
            if journal.entry_id_for_key(session, key) is not None:
                continue  # paid once, when the agreement first came into force
            journal.post(
                session,
                EntryDraft(
                    key=key,
                    period=posted_in,
                    kind="advance",
                    description=f"Recoupable advance to {party_id} under {agreement_id}: {description}",
                    legs=(
                        Leg.of(accounts.advance(party_id), amount, ccy, memo="advance"),
                        Leg.of(accounts.BANK, -amount, ccy, memo=f"advance to {party_id}"),
                    ),
                    source_ref=f"advance:{agreement_id}",
                ),
            )
    # Recoup every outstanding advance, whether or not the agreement that granted it is
    # still in force: an advance is recouped across periods until fully recouped.
    done: list[tuple[str, Decimal]] = []
    for party_id, ccy in _outstanding_advances(session):
        outstanding = _balance(session, accounts.advance(party_id), ccy)
        owed = -_balance(session, accounts.payable(party_id), ccy)
        amount_units = min(outstanding, owed)
        if amount_units <= 0:
            continue
        amount = from_units(amount_units)
        journal.post(
            session,
            EntryDraft(
                key=f"recoup:{period}:run{run_id}:{party_id}:{ccy}",
                period=posted_in,
                kind="recoupment",
                description=f"Recoupment of {party_id}'s advance from {period} earnings",
                legs=(
                    Leg(accounts.payable(party_id), amount_units, ccy, memo="recouped"),
                    Leg(accounts.advance(party_id), -amount_units, ccy, memo="recouped"),
                ),
                source_ref=f"recoup:{period}",
            ),
        )
        done.append((party_id, amount))
    return tuple(done)


def close_period(session: Session, period: str) -> Period:
    """Close a period once its revenue is fully split: a finance team never locks a
    month whose imported revenue still waits in ``revenue:undistributed``."""
    period = parse_period(period)
    row = session.execute(
        text(
            "SELECT p.currency, SUM(p.amount_whole), SUM(p.amount_frac) FROM posting p "
            "JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id "
            "WHERE a.code = :acct AND e.period = :period GROUP BY p.currency"
        ),
        {"acct": accounts.UNDISTRIBUTED, "period": period},
    ).all()
    waiting = [(ccy, -from_units(_units_of(w, f))) for ccy, w, f in row if _units_of(w, f)]
    if waiting:
        amounts = ", ".join(f"{to_text(a)} {c}" for c, a in waiting)
        raise Conflict(
            f"period {period} still has {amounts} of revenue that was not split",
            hint=f"run `royalty split --period {period}` first",
        )
    return journal.close_period(session, period)
