"""Split runs: from undistributed revenue to what each rights-holder is owed.

A split run for period P reads its inputs from the ledger itself: the
undistributed revenue posted in P by imports, suspense releases and import
reversals, summed per track, source, territory, usage type, usage period and
currency. Each group is resolved through the agreements in force
(:mod:`ledger.rules`) and split exactly (:mod:`ledger.allocation`).

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
from functools import lru_cache
from math import lcm
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col

from ledger import accounts, catalog_store, journal, settings
from ledger.agreements import Agreement
from ledger.allocation import allocate_units
from ledger.catalog import Catalog
from ledger.errors import Conflict
from ledger.journal import EntryDraft, Leg
from ledger.models import Period, SplitRun
from ledger.money import FRAC_PER_WHOLE, from_units, to_text
from ledger.periods import parse_period
from ledger.rules import LineContext, ResolutionError, Resolver

EARNED, FEES, FEE, SUSPENSE = "earned", "fees", "fee", "no agreement"

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
    return int(whole) * FRAC_PER_WHOLE + int(frac)


def _inputs(session: Session, period: str) -> dict[_Group, tuple[int, int]]:
    """Undistributed revenue of the period per group: (units of revenue, quantity)."""
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
    groups: dict[_Group, tuple[int, int]] = {}
    for isrc, src, terr, usage, uperiod, ccy, whole, frac in rows:
        units = -_units_of(whole, frac)  # credits are negative; revenue is positive
        if units:
            groups[(isrc or "", src or "", terr or "", usage or "", uperiod or period, ccy)] = (
                units,
                0,
            )
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
        key = (isrc, src, terr, usage, uperiod, ccy)
        if key in groups:
            groups[key] = (groups[key][0], int(qty))
    return groups


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


def desired_postings(
    groups: dict[_Group, tuple[int, int]], resolver: Resolver, operator: str
) -> tuple[dict[_Key, int], int, list[str]]:
    """What the split of these groups should have posted in total (pure).

    Returns the legs (signed units per key), the units sent to suspense, and
    the reasons lines went to suspense.
    """
    legs: dict[_Key, int] = defaultdict(int)
    suspense = 0
    reasons: list[str] = []
    for group in sorted(groups):
        units, quantity = groups[group]
        isrc, src, terr, usage, uperiod, ccy = group
        dims = (isrc, src, terr, usage, uperiod, ccy)
        legs[(accounts.UNDISTRIBUTED, *dims, "", "")] += units
        amount = from_units(units)
        try:
            plan = resolver.plan(
                LineContext(isrc, src, terr, usage, uperiod, amount, ccy, quantity)
            )
        except ResolutionError as exc:
            legs[(accounts.SUSPENSE, *dims, f"suspense:{exc.code}", SUSPENSE)] -= units
            suspense += units
            if len(reasons) < 20:
                reasons.append(f"{isrc} {src} {terr} {usage} {uperiod}: {exc.message}")
            continue
        split = plan.split_units(units, quantity)  # fees first, then shares, in order
        n_fees = len(plan.fees)
        for fee, fee_units in zip(plan.fees, split, strict=False):
            legs[(_account(fee.party_id, operator, "fee"), *dims, fee.rule_ref, FEE)] -= fee_units
        burden = _fee_burden(sum(split[:n_fees]), tuple(sh.share for sh in plan.shares))
        for share, share_units, fee_part in zip(plan.shares, split[n_fees:], burden, strict=True):
            account = _account(share.party_id, operator, "share")
            legs[(account, *dims, share.rule_ref, EARNED)] -= share_units + fee_part
            if fee_part:
                # A holder's part of the fees is kept per track and usage month, not
                # per source and territory: it is one figure on their statement, and
                # it keeps the split's posting count close to one leg per share.
                legs[(account, isrc, "", "", "", uperiod, ccy, share.rule_ref, FEES)] += fee_part
    return {k: v for k, v in legs.items() if v}, suspense, reasons


def _fee_burden(fee_units: int, shares: tuple[Fraction, ...]) -> list[int]:
    """Each shareholder's part of the fees, in proportion to their share of the split."""
    if not fee_units or not shares:
        return [0] * len(shares)
    split = allocate_units(fee_units, _share_weights(shares))
    return [split[i] for i in range(len(shares))]


@lru_cache(maxsize=4096)
def _share_weights(shares: tuple[Fraction, ...]) -> dict[int, int]:
    """Integer weights of a split sheet's shares (cached: a period has few split sheets)."""
    if not any(shares):
        shares = tuple(Fraction(1) for _ in shares)
    denominator = lcm(*(s.denominator for s in shares))
    return {i: int(s * denominator) for i, s in enumerate(shares)}


def _inputs_hash(groups: dict[_Group, tuple[int, int]], docs: list[Any], catalog: Catalog) -> str:
    digest = hashlib.sha256()
    for group in sorted(groups):
        digest.update(json.dumps([*group, *groups[group]]).encode())
    digest.update(json.dumps(docs).encode())
    for c in sorted(catalog.contributions, key=lambda c: (c.isrc, c.party_id, c.role)):
        digest.update(f"{c.isrc}|{c.party_id}|{c.role}|{c.weight}".encode())
    return digest.hexdigest()


def run_split(session: Session, period: str, *, dry_run: bool = False) -> SplitResult:
    """Split the period's undistributed revenue; post only what changed (see module doc)."""
    period = parse_period(period)
    ccy = settings.ledger_currency(session)
    catalog = catalog_store.current_catalog(session)
    agreements = catalog_store.stored_agreements(session, catalog)
    attribution = catalog_store.attribution_reports(session, catalog)
    groups = _inputs(session, period)
    docs = [
        catalog_store.agreement_documents(session),
        catalog_store.attribution_documents(session),
    ]
    inputs_hash = _inputs_hash(groups, docs, catalog)
    revenue = from_units(sum(u for u, _ in groups.values()))
    n_groups = len(groups)
    last = session.scalars(
        select(SplitRun).where(col(SplitRun.period) == period).order_by(col(SplitRun.id).desc())
    ).first()

    by_track: dict[str, dict[_Group, tuple[int, int]]] = defaultdict(dict)
    for group, value in groups.items():
        by_track[group[0]][group] = value
    del groups
    already_by_track: dict[str, dict[_Key, int]] = defaultdict(dict)
    for key, units in _already(session, period).items():
        already_by_track[key[1]][key] = units
    tracks = sorted(by_track.keys() | already_by_track.keys())
    resolver = Resolver(agreements, catalog, attribution)
    tally = _Tally()

    def deltas() -> Iterator[tuple[str, dict[_Key, int]]]:
        """Track by track, so memory holds one track's postings, not the period's."""
        for isrc in tracks:
            desired, suspense_units, reasons = desired_postings(
                by_track.pop(isrc, {}), resolver, catalog.operator_id
            )
            already = already_by_track.pop(isrc, {})
            delta = {
                k: desired.get(k, 0) - already.get(k, 0) for k in desired.keys() | already.keys()
            }
            delta = {k: v for k, v in delta.items() if v}
            tally.add(delta, suspense_units, reasons)
            if delta:
                yield isrc, delta

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
        session, _drafts(deltas(), run.id, period, posted_in, adjusting=last is not None)
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

    def add(self, delta: dict[_Key, int], suspense_units: int, reasons: list[str]) -> None:
        self.legs += len(delta)
        self.suspense += suspense_units
        self.reasons.extend(reasons[: max(0, 20 - len(self.reasons))])
        for key, units in delta.items():
            account, memo, ccy = key[0], key[8], key[6]
            if account == accounts.UNDISTRIBUTED:
                continue
            if memo in (EARNED, FEE, SUSPENSE):
                self.per_account[(account, ccy)][0] -= units
            elif memo == FEES:
                self.per_account[(account, ccy)][1] += units

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


def _drafts(
    deltas: Iterable[tuple[str, dict[_Key, int]]],
    run_id: int,
    period: str,
    posted_in: str,
    *,
    adjusting: bool,
) -> Iterator[EntryDraft]:
    """One entry per track: the track's difference between desired and posted."""
    kind = "adjustment" if adjusting else "split"
    verb = "Adjustment of the split" if adjusting else "Split"
    for isrc, delta in deltas:
        legs = tuple(
            Leg(
                account=k[0],
                units=u,
                currency=k[6],
                isrc=k[1] or None,
                source=k[2] or None,
                territory=k[3] or None,
                usage=k[4] or None,
                usage_period=k[5] or None,
                rule_ref=k[7] or None,
                memo=k[8] or None,
            )
            for k, u in sorted(delta.items())
        )
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
    from ledger.agreements import current_versions

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
