"""Property: whatever the catalog, agreements and revenue, nothing is created or lost.

Hypothesis draws a catalog (tracks, parties, contributions), agreements (shares
summing to 100 % or with ``remaining``, percentage fees, capped per-unit fees,
tracks left without agreement) and revenue lines (refunds included), imports
them and splits them. Then, to the last of 10 decimals:

    parties' payables + operator's income + suspense == imported revenue

undistributed revenue is zero, the trial balance is zero, and a rerun posts
nothing. SQLite only, on purpose: each example needs a fresh database, and a
copied SQLite file costs milliseconds where a PostgreSQL database costs a
second; the arithmetic under test is the same Python on both backends.
"""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.domain import accounts
from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.services import documents
from ledger.services.splits import run_split
from ledger.store import settings as ledger_settings
from ledger.store import verify
from ledger.store.db import Database
from tests import fixtures_revenue as fx
from tests.adapters import import_file

ROLES = ("producer", "curator", "model_vendor", "training_data_licensor", "artist")
PARTIES = ("p0", "p1", "p2", "p3")


def _isrc(i: int) -> str:
    return f"QZAAA26{i:05d}"


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, str | None, list[tuple[str, ...]]]:
    n_tracks = draw(st.integers(1, 3))
    catalog = [
        "parties:",
        "  - {id: label, name: Label, kind: company, payout_currency: USD, operator: true}",
        *(f"  - {{id: {p}, name: Party {p}, kind: person, payout_currency: USD}}" for p in PARTIES),
        "tracks:",
        *(
            f"  - {{isrc: {_isrc(i)}, title: Track {i}, display_artist: Someone}}"
            for i in range(n_tracks)
        ),
        "contributions:",
    ]
    agreements: list[str] = []
    for i in range(n_tracks):
        isrc = _isrc(i)
        members = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=4, unique=True))
        roles = {p: draw(st.sampled_from(ROLES)) for p in members}
        catalog += [f"  - {{isrc: {isrc}, party: {p}, role: {r}}}" for p, r in roles.items()]
        catalog.append(f"  - {{isrc: {isrc}, party: label, role: label}}")
        if not draw(st.booleans()) and i > 0:
            continue  # no agreement: this track's revenue goes to suspense
        weights = [draw(st.integers(1, 9)) for _ in members]
        remaining = draw(st.booleans())
        total = sum(weights) + (draw(st.integers(1, 9)) if remaining else 0)
        shares = [
            f"          - {{party: {p}, share: {w}/{total}}}"
            for p, w in zip(members, weights, strict=True)
        ]
        if remaining:
            shares.append("          - {party: label, role: label, share: remaining}")
        fees = []
        if draw(st.booleans()):
            fees.append(f"      - {{id: dist, party: label, percent: {draw(st.integers(0, 30))}%}}")
        if draw(st.booleans()):
            vendor = draw(st.sampled_from(PARTIES))
            rate = Decimal(draw(st.integers(0, 10_000))).scaleb(-6)
            cap = draw(st.sampled_from(["", ", cap: 5%", ", cap: 1/3"]))
            fees.append(
                f'      - {{id: unit, party: {vendor}, per_unit: "{rate}", currency: USD{cap}}}'
            )
        agreements += [
            f"  - id: a{i}",
            "    version: 1",
            f"    title: Agreement {i}",
            "    effective_from: 2026-01",
            f"    scope: {{tracks: [{isrc}]}}",
            *(["    fees:", *fees] if fees else []),
            "    rules:",
            "      - id: r",
            "        shares:",
            *shares,
        ]
    isrcs = [_isrc(i) for i in range(n_tracks)] * 4 + ["QZZZZ2699999", "BAD-ISRC"]
    rows = draw(
        st.lists(
            st.builds(
                lambda isrc, store, qty, units, month: fx.distrokid_row(
                    isrc=isrc,
                    store=store,
                    quantity=str(qty),
                    earnings=str(Decimal(units).scaleb(-8)),
                    sale_month=month,
                    source_type="Stream",
                ),
                st.sampled_from(isrcs),
                st.sampled_from(["Spotify", "Apple Music", "Deezer"]),
                st.integers(-1000, 10**6),
                st.integers(-(10**10), 10**12),
                st.sampled_from(["2026-10", "2026-10", "2026-09"]),
            ),
            min_size=1,
            max_size=12,
        )
    )
    text = "\n".join(["agreements:", *agreements]) + "\n" if agreements else None
    return "\n".join(catalog) + "\n", text, rows


def _sum(tb: verify.TrialBalance, prefix: str) -> Money:
    return total((r.balance for r in tb.rows if r.account.startswith(prefix)), "USD")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_earnings_plus_fees_plus_suspense_equal_imported_revenue(
    scenario: tuple[str, str | None, list[tuple[str, ...]]], _sqlite_template: Path
) -> None:
    catalog, agreements, rows = scenario
    work = Path(tempfile.mkdtemp(prefix="rl-prop-"))
    try:
        shutil.copyfile(_sqlite_template, work / "royalty.db")
        db = Database(f"sqlite:///{work / 'royalty.db'}")
        try:
            with db.write() as s:
                ledger_settings.initialise(s, "USD")
                documents.load_catalog(s, catalog, "catalog.yaml")
                if agreements:
                    documents.load_agreements(s, agreements, "agreements.yaml")
            with db.write() as s:
                imported = import_file(
                    s, fx.write_distrokid(work / "revenue.tsv", rows), period="2026-10"
                )
            with db.write() as s:
                result = run_split(s, Period(2026, 10))
            with db.read() as s:
                tb = verify.trial_balance(s)
                verify.verify(s)
            # the file's own total, line by line, exactly
            assert imported.ledger_total == Money.of(
                sum((Decimal(r[13]) for r in rows), Decimal(0)), "USD"
            )
            assert tb.balanced, tb.totals
            assert _sum(tb, "receivable:") == imported.ledger_total
            assert _sum(tb, accounts.UNDISTRIBUTED) == Money.zero("USD")
            owed = _sum(tb, "payable:") + _sum(tb, "income:") + _sum(tb, accounts.SUSPENSE)
            assert -owed == imported.ledger_total
            # the run's own account of it agrees
            # (its changes include the suspense account for revenue no agreement covers)
            held = total((c.net for c in result.changes if c.account == accounts.SUSPENSE), "USD")
            assert held == result.suspense
            assert total((c.net for c in result.changes), "USD") == result.revenue
            assert result.revenue + imported.suspense_amount == imported.ledger_total
            event(
                f"split groups: {min(result.groups, 3)}+, held in suspense: {bool(result.suspense)}"
            )
            event(f"fees to the operator: {bool(_sum(tb, accounts.FEES))}")
            with db.write() as s:
                assert run_split(s, Period(2026, 10)).unchanged
        finally:
            db.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
