"""Split runs, recoupment, payouts and period close, checked against figures worked by hand.

The worked example (a textbook situation: a distribution fee off the top, a
capped per-stream vendor fee, a producer and a curator, two training-data
licensors pooled by an attribution report, a recoupable advance, payout
thresholds) is written in this file: catalog, agreement, revenue and the
expected figure of every party, with the arithmetic in comments. Every test
runs on SQLite and PostgreSQL (``database``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from ledger.domain import accounts
from ledger.domain.errors import Conflict, PeriodClosed
from ledger.domain.money import total
from ledger.domain.periods import Period
from ledger.services import documents
from ledger.services.balances import PartyBalance, balances
from ledger.services.imports import ImportSummary
from ledger.services.payouts import pay
from ledger.services.splits import SplitResult, run_split
from ledger.store import periods as period_store
from ledger.store.db import Database
from ledger.store.models import Payout, SplitRun
from tests import fixtures_revenue as fx
from tests.adapters import import_file, month
from tests.test_imports import account_balance, assert_books_sound, table_counts, usd

D = Decimal
OCT = Period(2026, 10)
NOV = Period(2026, 11)
ZERO = usd("0")
T1 = "QZAAA2600001"  # "Hook Line": covered by the agreement
T2 = "QZAAA2600002"  # "B-Side": in the catalog, no agreement yet

CATALOG = f"""\
parties:
  - {{id: label, name: Indie Label, kind: company, payout_currency: USD, operator: true}}
  - {{id: prod, name: The Producer, kind: person, payout_currency: USD, payout_threshold: "50.00"}}
  - {{id: cur, name: The Curator, kind: person, payout_currency: USD, payout_threshold: "300.00"}}
  - {{id: lic-a, name: Licensor A, kind: company, payout_currency: USD}}
  - {{id: lic-b, name: Licensor B, kind: company, payout_currency: USD, payout_threshold: "100.00"}}
  - {{id: vendor, name: Voice Model Inc., kind: company, payout_currency: USD}}
tracks:
  - {{isrc: {T1}, title: Hook Line, display_artist: Machine Choir}}
  - {{isrc: {T2}, title: B-Side, display_artist: Machine Choir}}
contributions:
  - {{isrc: {T1}, party: cur, role: curator}}
  - {{isrc: {T1}, party: prod, role: producer}}
  - {{isrc: {T1}, party: lic-a, role: training_data_licensor}}
  - {{isrc: {T1}, party: lic-b, role: training_data_licensor}}
  - {{isrc: {T1}, party: vendor, role: model_vendor}}
  - {{isrc: {T1}, party: label, role: label}}
  - {{isrc: {T2}, party: prod, role: producer}}
  - {{isrc: {T2}, party: label, role: label}}
"""


def agreement(version: int = 1, producer: str = "40%", curator: str = "30%") -> str:
    return f"""\
agreements:
  - id: hook-line
    version: {version}
    title: Hook Line split sheet
    effective_from: 2026-01
    scope: {{tracks: [{T1}]}}
    fees:
      - {{id: distribution, party: label, percent: 15%}}
      - {{id: voice, party: vendor, per_unit: "0.001", currency: USD, cap: 2%, when: {{usage: stream}}}}
    rules:
      - id: standard
        shares:
          - {{party: prod, role: producer, share: {producer}}}
          - {{role: curator, share: {curator}}}
          - {{role: training_data_licensor, share: 30%, divide_by: attribution}}
    advances:
      - {{party: prod, amount: "100.00", currency: USD, description: mixing advance}}
"""


B_SIDE = f"""\
agreements:
  - id: b-side
    version: 1
    title: B-Side, all to the producer
    effective_from: 2026-01
    scope: {{tracks: [{T2}]}}
    rules:
      - id: all
        shares:
          - {{party: prod, role: producer, share: 100%}}
"""

ATTRIBUTION = "licensor,model,isrc,weight\nlic-a,,,2\nlic-b,,,1\n"  # 2:1

OCTOBER = (
    fx.distrokid_row(store="Spotify", isrc=T1, quantity="100000", country="US", earnings="1000.00"),
    fx.distrokid_row(
        store="Apple Music", isrc=T1, quantity="1000", country="US", earnings="100.00"
    ),
    fx.distrokid_row(store="Deezer", isrc=T1, quantity="7", country="FR", earnings="0.07"),
)


def setup_ledger(db: Database, *, with_agreement: bool = True) -> None:
    with db.write() as s:
        documents.load_catalog(s, CATALOG, "catalog.yaml")
        if with_agreement:
            documents.load_agreements(s, agreement(), "hook-line.yaml")
        documents.load_attribution(s, ATTRIBUTION, "attribution.csv", OCT)


def import_rows(
    db: Database, path: Path, rows: tuple[tuple[str, ...], ...], period: str = "2026-10"
) -> ImportSummary:
    with db.write() as s:
        return import_file(s, fx.write_distrokid(path, rows), period=period)


def split(db: Database, period: str = "2026-10", *, dry_run: bool = False) -> SplitResult:
    with db.write() as s:
        return run_split(s, Period.parse(period), dry_run=dry_run)


def entry_column(s: Session, column: str, where: str, value: str) -> list[str]:
    """One column of the journal entries whose ``where`` column equals ``value``."""
    sql = f"SELECT {column} FROM journal_entry WHERE {where} = :v ORDER BY id"
    return [str(v) for v in s.execute(text(sql), {"v": value}).scalars()]


def party_balances(db: Database, period: str | None = None) -> dict[str, PartyBalance]:
    with db.read() as s:
        return {b.party_id: b for b in balances(s, period=month(period))}


@dataclass(frozen=True)
class Expected:
    earned: str
    fees: str
    recouped: str
    paid: str
    closing: str


# Worked by hand. Fees off the top in the order written, then the split sheet; each
# shareholder also carries the fees in proportion to their share (prod 40%, cur 30%,
# lic-a 30% * 2/3 = 20%, lic-b 30% * 1/3 = 10%), so "earned" is their gross share of
# the line and "fees" their part of the fees.
#
# Spotify US, 1000.00, 100000 streams:
#   distribution 15%                 = 150.00        rest 850.00
#   voice 0.001 * 100000 = 100.00, capped at 2% of 1000.00 = 20.00   rest 830.00
#   prod 40% 332.00  cur 30% 249.00  pool 30% 249.00 -> lic-a 166.00, lic-b 83.00
#   fees 170.00 carried: prod 68.00  cur 51.00  lic-a 34.00  lic-b 17.00
# Apple Music US, 100.00, 1000 streams:
#   distribution 15.00  rest 85.00;  voice 0.001 * 1000 = 1.00 (cap 2.00)  rest 84.00
#   prod 33.60  cur 25.20  lic-a 16.80  lic-b 8.40
#   fees 16.00 carried: prod 6.40  cur 4.80  lic-a 3.20  lic-b 1.60
# Deezer FR, 0.07, 7 streams:
#   distribution 0.0105  rest 0.0595;  voice 0.007 capped at 2% of 0.07 = 0.0014  rest 0.0581
#   prod 0.02324  cur 0.01743  lic-a 0.01162  lic-b 0.00581
#   fees 0.0119 carried: prod 0.00476  cur 0.00357  lic-a 0.00238  lic-b 0.00119
#
# prod:   earned 400 + 40 + 0.028 = 440.028;  fees 68 + 6.40 + 0.00476 = 74.40476
#         net 365.62324; advance 100.00 recouped -> 265.62324; paid 265.62 (threshold 50)
#         carried 0.00324
# cur:    earned 330.021; fees 55.80357; net 274.21743 < threshold 300.00: nothing paid
# lic-a:  earned 220.014; fees 37.20238; net 182.81162; no threshold: paid 182.81, carried 0.00162
# lic-b:  earned 110.007; fees 18.60119; net 91.40581 < threshold 100.00: nothing paid
# vendor: fee 20.00 + 1.00 + 0.0014 = 21.0014; paid 21.00, carried 0.0014
# label (operator): income:fees 150 + 15 + 0.0105 = 165.0105
# check: 365.62324 + 274.21743 + 182.81162 + 91.40581 + 21.0014 + 165.0105 = 1100.07
EXPECTED = {
    "prod": Expected("440.028", "74.40476", "100.00", "265.62", "0.00324"),
    "cur": Expected("330.021", "55.80357", "0", "0", "274.21743"),
    "lic-a": Expected("220.014", "37.20238", "0", "182.81", "0.00162"),
    "lic-b": Expected("110.007", "18.60119", "0", "0", "91.40581"),
    "vendor": Expected("21.0014", "0", "0", "21.00", "0.0014"),
}
INCOME_FEES = usd("165.0105")


def run_worked_example(db: Database, tmp_path: Path) -> SplitResult:
    setup_ledger(db)
    imported = import_rows(db, tmp_path / "october.tsv", OCTOBER)
    assert imported.ledger_total == usd("1100.07")
    return split(db)


def test_worked_example_fees_pool_by_attribution_capped_vendor_fee_advance_payout(
    database: Database, tmp_path: Path
) -> None:
    result = run_worked_example(database, tmp_path)
    assert result.revenue == usd("1100.07") and result.suspense == ZERO
    assert result.recoupments == (("prod", usd("100.00")),)
    net = {c.party_id: c.net for c in result.changes}
    assert net == {
        "income:fees": usd("165.0105"),
        "prod": usd("365.62324"),
        "cur": usd("274.21743"),
        "lic-a": usd("182.81162"),
        "lic-b": usd("91.40581"),
        "vendor": usd("21.0014"),
    }
    assert total(net.values(), "USD") == usd("1100.07")
    assert account_balance(database, accounts.UNDISTRIBUTED) == ZERO
    assert account_balance(database, accounts.FEES) == -INCOME_FEES
    assert account_balance(database, accounts.advance("prod")) == ZERO  # fully recouped

    with database.write() as s:
        paid = pay(s, OCT)
    lines = {x.party_id: x for x in paid.lines}
    assert paid.total_paid == usd("265.62") + usd("182.81") + usd("21.00")
    assert lines["cur"].paid == ZERO and lines["cur"].reason.startswith("below threshold of 300")
    assert lines["lic-b"].paid == ZERO and lines["lic-b"].carried == usd("91.40581")
    assert lines["prod"].carried == usd("0.00324")

    got = party_balances(database, "2026-10")
    assert set(got) == set(EXPECTED)
    for party, e in EXPECTED.items():
        b = got[party]
        assert (b.opening, b.earned, b.fees, b.recouped, b.paid, b.closing) == (
            ZERO,
            usd(e.earned),
            usd(e.fees),
            usd(e.recouped),
            usd(e.paid),
            usd(e.closing),
        ), party
        assert b.check() and b.advance_outstanding == ZERO
    # the bank paid the advance and the payouts: 100.00 + 469.43
    assert account_balance(database, accounts.BANK) == usd("-569.43")
    assert_books_sound(database)

    # a second payout run posts nothing new: what is left is below a cent or a threshold
    before = table_counts(database)
    with database.write() as s:
        again = pay(s, OCT)
    assert again.total_paid == ZERO and table_counts(database) == before


def test_postings_trace_to_agreement_version_rule_and_run(
    database: Database, tmp_path: Path
) -> None:
    result = run_worked_example(database, tmp_path)
    with database.read() as s:
        run = s.get(SplitRun, result.run_id)
        assert run is not None and run.period == OCT and run.posted_in == OCT
        refs = set(
            s.execute(
                text(
                    "SELECT DISTINCT p.rule_ref FROM posting p JOIN journal_entry e "
                    "ON e.id = p.entry_id WHERE e.source_ref = 'split:2026-10' "
                    "AND p.rule_ref IS NOT NULL"
                )
            ).scalars()
        )
        inputs = run.inputs
    assert refs and all("hook-line@v1" in r for r in refs), refs
    assert any("standard" in r for r in refs) and any("voice" in r for r in refs)
    assert '"imports": [1]' in inputs.replace(" ", "").replace('"imports":[1]', '"imports": [1]')


def test_rerun_on_the_same_inputs_posts_nothing(database: Database, tmp_path: Path) -> None:
    first = run_worked_example(database, tmp_path)
    before = table_counts(database)
    again = split(database)
    assert again.unchanged and again.entries == 0 and again.changes == ()
    assert again.run_id == first.run_id
    assert table_counts(database) == before


def test_late_file_posts_only_the_difference_and_dry_run_previews_it(
    database: Database, tmp_path: Path
) -> None:
    first = run_worked_example(database, tmp_path)
    # a late file: 10.00 more on Spotify US, 100 streams. It joins the Spotify group,
    # now 1010.00 and 101000 streams:
    #   distribution 151.50 (+1.50)  rest 858.50
    #   voice min(101.00, 2% of 1010.00 = 20.20) = 20.20 (+0.20)  rest 838.30
    #   prod 335.32 (+3.32)  cur 251.49 (+2.49)  lic-a 167.66 (+1.66)  lic-b 83.83 (+0.83)
    #   prod earned 404.00 (+4.00), fees 171.70 * 40% = 68.68 (+0.68): net +3.32
    # the difference sums to the late revenue: 1.50 + 0.20 + 3.32 + 2.49 + 1.66 + 0.83 = 10.00
    late = (
        fx.distrokid_row(store="Spotify", isrc=T1, quantity="100", country="US", earnings="10.00"),
    )
    import_rows(database, tmp_path / "late.tsv", late)
    delta = {
        "income:fees": usd("1.50"),
        "vendor": usd("0.20"),
        "prod": usd("3.32"),
        "cur": usd("2.49"),
        "lic-a": usd("1.66"),
        "lic-b": usd("0.83"),
    }
    before = table_counts(database)
    preview = split(database, dry_run=True)
    assert preview.dry_run and not preview.unchanged
    assert {c.party_id: c.net for c in preview.changes} == delta
    assert table_counts(database) == before  # the preview posted nothing

    rerun = split(database)
    assert {c.party_id: c.net for c in rerun.changes} == delta
    prod = next(c for c in rerun.changes if c.party_id == "prod")
    assert (prod.earned, prod.fees) == (usd("4.00"), usd("0.68"))
    assert rerun.adjusts_run_id == first.run_id and rerun.run_id != first.run_id
    with database.read() as s:
        kinds = set(entry_column(s, "kind", "source_ref", "split:2026-10"))
    assert kinds == {"split", "adjustment"}
    got = party_balances(database, "2026-10")
    assert got["prod"].earned == usd("444.028") and got["prod"].fees == usd("75.08476")
    assert account_balance(database, accounts.UNDISTRIBUTED) == ZERO
    assert split(database).unchanged  # and now nothing more
    assert_books_sound(database)


def test_corrected_agreement_version_posts_only_the_difference(
    database: Database, tmp_path: Path
) -> None:
    first = run_worked_example(database, tmp_path)
    # version 2: producer 50%, curator 20%. Only prod and cur move, by 10% of what is
    # left after fees in each group: 830.00 + 84.00 + 0.0581 = 914.0581 -> 91.40581
    with database.write() as s:
        documents.load_agreements(s, agreement(2, "50%", "20%"), "hook-line-v2.yaml")
    rerun = split(database)
    assert rerun.adjusts_run_id == first.run_id
    # every leg now names v2, so the others' legs move from v1 to v2 with a net change of 0
    assert {c.party_id: c.net for c in rerun.changes if c.net} == {
        "prod": usd("91.40581"),
        "cur": usd("-91.40581"),
    }
    got = party_balances(database, "2026-10")
    # prod: earned 10% of 1100.07 more = 550.035; fees 10% of 170 + 16 + 0.0119 = 186.0119 more = 93.00595
    assert got["prod"].earned == usd("550.035") and got["prod"].fees == usd("93.00595")
    assert got["cur"].earned == usd("220.014") and got["cur"].fees == usd("37.20238")
    assert (
        account_balance(database, accounts.advance("prod")) == ZERO
    )  # the advance was not paid twice
    assert account_balance(database, accounts.BANK) == usd("-100.00")
    assert_books_sound(database)


def test_per_unit_fee_counts_only_the_streams_of_revenue_being_split(
    database: Database, tmp_path: Path
) -> None:
    """QA B4: streams of lines still held in suspense must not feed a per-unit fee."""
    without_t1 = "\n".join(x for x in CATALOG.splitlines() if T1 not in x) + "\n"
    with database.write() as s:
        documents.load_catalog(s, without_t1, "catalog-0.yaml")
    held = (
        fx.distrokid_row(
            store="Spotify", isrc=T1, quantity="100000", country="US", earnings="1000.00"
        ),
    )
    import_rows(database, tmp_path / "early.tsv", held)  # T1 unknown: held in suspense
    setup_ledger(database)  # now the catalog knows T1, and the agreement applies
    known = (
        fx.distrokid_row(
            store="Spotify", isrc=T1, quantity="1000", country="US", earnings="100.00"
        ),
    )
    import_rows(database, tmp_path / "october.tsv", known)  # the same group: Spotify US, stream
    result = split(database)  # suspense not resolved: only the 100.00 is split
    # as Apple Music in the worked example: voice 0.001 * 1000 = 1.00 (the cap, 2.00, not
    # reached); with the held line's 100000 streams it would wrongly be min(101.00, 2.00)
    assert {c.party_id: c.net for c in result.changes} == {
        "income:fees": usd("15.00"),
        "vendor": usd("1.00"),
        "prod": usd("33.60"),
        "cur": usd("25.20"),
        "lic-a": usd("16.80"),
        "lic-b": usd("8.40"),
    }


def test_revenue_without_agreement_is_held_in_suspense_until_one_exists(
    database: Database, tmp_path: Path
) -> None:
    setup_ledger(database)
    rows = (*OCTOBER, fx.distrokid_row(store="Spotify", isrc=T2, quantity="500", earnings="5.00"))
    import_rows(database, tmp_path / "october.tsv", rows)
    first = split(database)
    assert first.suspense == usd("5.00") and first.problems and T2 in first.problems[0]
    assert account_balance(database, accounts.SUSPENSE) == usd("-5.00")
    assert account_balance(database, accounts.UNDISTRIBUTED) == ZERO
    with database.write() as s:
        documents.load_agreements(s, B_SIDE, "b-side.yaml")
    rerun = split(database)
    assert rerun.suspense == ZERO
    assert {c.party_id: c.net for c in rerun.changes} == {
        "prod": usd("5.00"),
        "suspense:revenue": usd("-5.00"),
    }
    assert account_balance(database, accounts.SUSPENSE) == ZERO
    assert party_balances(database)["prod"].closing == (
        usd("365.62324") + usd("5.00") - usd("100.00")
    )
    assert_books_sound(database)


def test_split_of_the_next_month_with_the_advance_agreement_still_in_force(  # QA B1
    database: Database, tmp_path: Path
) -> None:
    run_worked_example(database, tmp_path)
    nov = (
        fx.distrokid_row(
            sale_month="2026-11", store="Spotify", isrc=T1, quantity="1000", earnings="100.00"
        ),
    )
    import_rows(database, tmp_path / "november.tsv", nov, period="2026-11")
    result = split(database, "2026-11")
    # same as Apple Music in October: prod earned 40.00, fees 6.40
    assert {c.party_id: c.net for c in result.changes}["prod"] == usd("33.60")
    assert account_balance(database, accounts.BANK) == usd("-100.00")  # one advance, not two
    assert_books_sound(database)


def test_rerun_for_a_closed_period_lands_in_the_next_open_period(
    database: Database, tmp_path: Path
) -> None:
    first = run_worked_example(database, tmp_path)
    with database.write() as s:
        period_store.close(s, OCT)
    with database.write() as s:
        documents.load_agreements(s, agreement(2, "50%", "20%"), "hook-line-v2.yaml")
    rerun = split(database)
    assert rerun.posted_in == NOV and rerun.adjusts_run_id == first.run_id
    with database.read() as s:
        periods = set(entry_column(s, "period", "kind", "adjustment"))
    assert periods == {"2026-11"}
    assert party_balances(database, "2026-11")["prod"].opening == usd("365.62324") - usd("100.00")
    assert_books_sound(database)


def test_rerun_for_a_closed_period_without_advances_lands_in_the_next_open_period(
    database: Database, tmp_path: Path
) -> None:
    """The same as above with an agreement that has no advance (B1 does not apply)."""
    with database.write() as s:
        documents.load_catalog(s, CATALOG, "catalog.yaml")
        documents.load_agreements(s, B_SIDE, "b-side.yaml")
    rows = (fx.distrokid_row(store="Spotify", isrc=T2, quantity="500", earnings="5.00"),)
    import_rows(database, tmp_path / "october.tsv", rows)
    first = split(database)
    with database.write() as s:
        period_store.close(s, OCT)
    half = B_SIDE.replace("version: 1", "version: 2").replace(
        "share: 100%}", "share: 50%}\n          - {party: label, role: label, share: remaining}"
    )
    with database.write() as s:
        documents.load_agreements(s, half, "b-side-v2.yaml")
    rerun = split(database)
    assert rerun.posted_in == NOV and rerun.adjusts_run_id == first.run_id
    assert {c.party_id: c.net for c in rerun.changes} == {
        "prod": usd("-2.50"),
        "income:share": usd("2.50"),
    }
    got = party_balances(database, "2026-11")["prod"]
    assert (got.opening, got.other + got.earned - got.fees, got.closing) == (
        usd("5.00"),
        usd("-2.50"),
        usd("2.50"),
    )
    with database.read() as s:
        assert entry_column(s, "period", "kind", "adjustment") == ["2026-11"]
    assert_books_sound(database)


def test_payout_rounds_down_to_the_cent_and_respects_thresholds(
    database: Database, tmp_path: Path
) -> None:
    run_worked_example(database, tmp_path)
    with database.read() as s:
        preview = pay(s, OCT, dry_run=True)
    assert {x.party_id: x.paid for x in preview.lines} == {
        "prod": usd("265.62"),
        "cur": usd("0"),
        "lic-a": usd("182.81"),
        "lic-b": usd("0"),
        "vendor": usd("21.00"),
    }
    assert all(x.paid + x.carried == x.balance for x in preview.lines)
    with database.write() as s:
        pay(s, OCT)
    with database.read() as s:
        payouts = {p.party_id: p.amount for p in s.scalars(select(Payout))}
    assert payouts == {"prod": D("265.62"), "lic-a": D("182.81"), "vendor": D("21.00")}


def test_closing_periods_in_order_and_no_posting_after(database: Database, tmp_path: Path) -> None:
    run_worked_example(database, tmp_path)
    with database.write() as s:
        period_store.ensure(s, NOV)
    with pytest.raises(Conflict, match="2026-10"), database.write() as s:
        period_store.close(s, NOV)  # October is still open
    with database.write() as s:
        period_store.close(s, OCT)
    with pytest.raises(PeriodClosed), database.write() as s:
        period_store.close(s, OCT)
    # a payout for the closed month lands in the next open one
    with database.write() as s:
        paid = pay(s, OCT)
    assert paid.posted_in == NOV
    with pytest.raises(PeriodClosed):
        import_rows(database, tmp_path / "more.tsv", OCTOBER[:1])
    assert_books_sound(database)


LAUNCH_THEN_ONGOING = f"""\
agreements:
  - id: launch
    version: 1
    title: Launch month, with the advance
    effective_from: 2026-09
    effective_to: 2026-09
    scope: {{tracks: [{T2}]}}
    rules:
      - id: r
        shares:
          - {{party: prod, role: producer, share: 100%}}
    advances:
      - {{party: prod, amount: "100.00", currency: USD, description: launch advance}}
  - id: ongoing
    version: 1
    title: From October
    effective_from: 2026-10
    scope: {{tracks: [{T2}]}}
    rules:
      - id: r
        shares:
          - {{party: prod, role: producer, share: 100%}}
"""


def test_an_advance_is_recouped_across_periods_until_fully_recouped(
    database: Database, tmp_path: Path
) -> None:
    with database.write() as s:
        documents.load_catalog(s, CATALOG, "catalog.yaml")
        documents.load_agreements(s, LAUNCH_THEN_ONGOING, "deals.yaml")
    september = (fx.distrokid_row(sale_month="2026-09", isrc=T2, earnings="10.00"),)
    import_rows(database, tmp_path / "september.tsv", september, period="2026-09")
    assert split(database, "2026-09").recoupments == (("prod", usd("10.00")),)  # 90.00 to go
    october = (fx.distrokid_row(isrc=T2, earnings="500.00"),)
    import_rows(database, tmp_path / "october.tsv", october)
    assert split(database).recoupments == (("prod", usd("90.00")),)
    assert account_balance(database, accounts.advance("prod")) == ZERO
    with database.write() as s:
        paid = pay(s, OCT)
    assert {x.party_id: x.paid for x in paid.lines}["prod"] == usd("410.00")  # 510.00 - 100.00
