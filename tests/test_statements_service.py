"""Statements from the ledger: every figure recomputed from raw postings, the PDF read
back, issued statements byte-identical after later postings, names in any script.

The ledger is built with the services (catalog, agreements, attribution, a DistroKid
import with a late correction for September, split, payout), on SQLite and PostgreSQL.
The curator is named in kanji, the producer has accents, and one licensor's name
starts with ``=`` (formula injection in the CSV).
"""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from ledger.domain.errors import InvalidPeriod, NotFound
from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.domain.statement import Statement
from ledger.services import documents
from ledger.services.payouts import pay
from ledger.services.splits import run_split
from ledger.services.statement_data import build_statement, parties_with_activity
from ledger.services.statements import UnknownFormat, list_statements, statement_file
from ledger.store import periods
from ledger.store.db import Database
from ledger.store.models import IssuedStatement
from reports import render
from reports.pdf import render_pdf
from tests import fixtures_revenue as fx
from tests.adapters import import_file, write_statements
from tests.test_reports_pdf import expected_phrases, pdf_text

D = Decimal
OCT = Period(2026, 10)
NOV = Period(2026, 11)
T1 = "QZAAA2600001"
T2 = "QZAAA2600002"

CATALOG = f"""\
parties:
  - {{id: label, name: Indie Label Ltd, kind: company, payout_currency: USD, operator: true,
     email: royalties@indie.example}}
  - {{id: prod, name: Zoë Müller, kind: person, payout_currency: USD, payout_threshold: "50.00",
     ipi: "00052340905"}}
  - {{id: cur, name: 山田太郎, kind: person, payout_currency: USD, payout_threshold: "300.00"}}
  - {{id: lic-a, name: Licensor A, kind: company, payout_currency: USD}}
  - {{id: lic-b, name: "=HYPERLINK(\\"http://x.example\\") Songs", kind: company,
     payout_currency: USD, payout_threshold: "100.00"}}
tracks:
  - {{isrc: {T1}, title: Hook Line, display_artist: Machine Choir}}
  - {{isrc: {T2}, title: 夜明けのリズム, display_artist: Machine Choir}}
contributions:
  - {{isrc: {T1}, party: cur, role: curator}}
  - {{isrc: {T1}, party: prod, role: producer}}
  - {{isrc: {T1}, party: lic-a, role: training_data_licensor}}
  - {{isrc: {T1}, party: lic-b, role: training_data_licensor}}
  - {{isrc: {T1}, party: label, role: label}}
  - {{isrc: {T2}, party: prod, role: producer}}
  - {{isrc: {T2}, party: cur, role: curator}}
  - {{isrc: {T2}, party: lic-a, role: training_data_licensor}}
  - {{isrc: {T2}, party: lic-b, role: training_data_licensor}}
  - {{isrc: {T2}, party: label, role: label}}
"""


def agreement(version: int = 1, producer: str = "40%") -> str:
    return f"""\
agreements:
  - id: hook-line
    version: {version}
    title: Hook Line split sheet
    effective_from: 2026-01
    scope: {{tracks: [{T1}, {T2}]}}
    fees:
      - {{id: distribution, party: label, percent: 15%}}
    rules:
      - id: standard
        shares:
          - {{party: prod, role: producer, share: {producer}}}
          - {{role: curator, share: 30%}}
          - {{role: training_data_licensor, share: 20%, divide_by: attribution}}
          - {{party: label, role: label, share: remaining}}
    advances:
      - {{party: prod, amount: "100.00", currency: USD, description: mixing advance}}
"""


ATTRIBUTION = "licensor,model,isrc,weight\nlic-a,,,2\nlic-b,,,1\n"

OCTOBER = (
    fx.distrokid_row(store="Spotify", isrc=T1, quantity="100000", country="US", earnings="1000.00"),
    fx.distrokid_row(
        store="Apple Music", isrc=T1, quantity="1000", country="GB", earnings="100.123456789"
    ),
    fx.distrokid_row(store="Deezer", isrc=T2, quantity="7", country="FR", earnings="0.07"),
    fx.distrokid_row(store="Spotify", isrc=T2, quantity="3000", country="JP", earnings="45.10"),
    # a correction of September usage, reported in October: an adjustment on the statement
    fx.distrokid_row(
        sale_month="2026-09",
        store="Spotify",
        isrc=T1,
        quantity="-200",
        country="US",
        earnings="-2.00",
    ),
)
NOVEMBER = (
    fx.distrokid_row(
        sale_month="2026-11",
        store="Spotify",
        isrc=T1,
        quantity="5000",
        country="US",
        earnings="50.00",
    ),
)


def build_ledger(db: Database, tmp_path: Path) -> None:
    """October imported, split and paid (left open)."""
    with db.write() as s:
        documents.load_catalog(s, CATALOG, "catalog.yaml")
        documents.load_agreements(s, agreement(), "hook-line.yaml")
        documents.load_attribution(s, ATTRIBUTION, "attribution.csv", OCT)
    with db.write() as s:
        import_file(s, fx.write_distrokid(tmp_path / "october.tsv", OCTOBER), period="2026-10")
    with db.write() as s:
        run_split(s, OCT)
    with db.write() as s:
        pay(s, OCT)


# ---------------------------------------------------------------------------
# Raw sums, written here in SQL, independent of the service and of balances.py


def raw(session: Session, where: str, **params: object) -> Money:
    """Sum of the postings on a party's payable account that match ``where`` (USD)."""
    row = session.execute(
        text(
            "SELECT COALESCE(SUM(p.amount_whole), 0), COALESCE(SUM(p.amount_frac), 0) "
            "FROM posting p JOIN account a ON a.id = p.account_id "
            "JOIN journal_entry e ON e.id = p.entry_id "
            f"WHERE a.code = :acct AND {where}"
        ),
        params,
    ).one()
    return Money.of_parts(int(row[0]), int(row[1]), "USD")


def assert_every_figure_is_a_sum_of_postings(session: Session, st: Statement) -> None:
    acct = f"payable:{st.party.id}"
    p = st.period.code  # raw SQL compares the stored text
    s = st.summary
    earned_memos = "p.memo IN ('earned', 'fee', 'no agreement')"
    known = "p.memo IN ('earned', 'fee', 'no agreement', 'fees', 'recouped', 'paid')"
    assert s.opening == -raw(session, "e.period < :p", acct=acct, p=p)
    assert s.earned == -raw(
        session, f"e.period = :p AND ({earned_memos} OR NOT {known})", acct=acct, p=p
    )
    assert s.fees == raw(session, "e.period = :p AND p.memo = 'fees'", acct=acct, p=p)
    assert s.recouped == raw(session, "e.period = :p AND p.memo = 'recouped'", acct=acct, p=p)
    paid_now = raw(
        session,
        "e.period = :p AND p.memo = 'paid' AND e.source_ref = :ref",
        acct=acct,
        p=p,
        ref=f"payout:{p}",
    )
    assert s.payable_now == paid_now
    assert s.paid + s.payable_now == raw(
        session, "e.period = :p AND p.memo = 'paid'", acct=acct, p=p
    )
    assert s.closing == -raw(session, "e.period <= :p", acct=acct, p=p) + paid_now
    assert s.carried_forward == s.closing - s.payable_now
    # every line: the postings of its track, source, territory, usage and rule
    for ln in st.lines:
        assert ln.amount == -raw(
            session,
            "e.period = :p AND e.kind = 'split' AND e.source_ref = :ref AND p.isrc = :isrc "
            "AND p.source = :src AND p.territory = :terr AND p.usage = :usage "
            "AND p.rule_ref = :rule AND p.memo IN ('earned', 'fee') AND p.usage_period = :ref_p",
            acct=acct,
            p=p,
            ref=f"split:{p}",
            isrc=ln.isrc,
            src=ln.source,
            terr=ln.territory,
            usage=ln.usage,
            rule=ln.rule_ref,
            ref_p=p,
        ), ln
        qty = session.execute(
            text(
                "SELECT COALESCE(SUM(l.quantity), 0) FROM revenue_line l "
                "JOIN revenue_import i ON i.id = l.import_id WHERE i.period = :p "
                "AND i.status = 'posted' AND l.isrc = :isrc AND l.source = :src "
                "AND l.territory = :terr AND l.usage = :usage AND l.usage_period = :p"
            ),
            {"p": p, "isrc": ln.isrc, "src": ln.source, "terr": ln.territory, "usage": ln.usage},
        ).scalar_one()
        assert ln.quantity == max(int(qty), 0)
    # the movements add up to the summary (Statement checks it too; say it here)
    assert total((m.amount for m in st.fees), "USD") == s.fees
    assert total((m.amount for m in st.recoupments), "USD") == s.recouped
    assert total((m.amount for m in st.payments), "USD") == s.paid
    assert (
        total((ln.amount for ln in st.lines), "USD")
        + total((m.amount for m in st.adjustments), "USD")
        == s.earned
    )


# ---------------------------------------------------------------------------


def test_every_figure_of_every_statement_is_a_sum_of_postings(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.read() as s:
        parties = parties_with_activity(s, OCT)
        assert parties == ["cur", "lic-a", "lic-b", "prod"]  # never the operator
        for party in parties:
            assert_every_figure_is_a_sum_of_postings(s, build_statement(s, party, OCT))
        prod = build_statement(s, "prod", OCT)
    # the producer: the advance recouped, paid now, the September correction an adjustment
    assert prod.summary.recouped == Money.of("100.00", "USD")
    assert prod.summary.payable_now > Money.zero("USD")
    assert prod.summary.paid == Money.zero("USD")
    assert prod.summary.carry_reason is not None and "remainder" in prod.summary.carry_reason
    assert [m.kind for m in prod.adjustments] == ["correction"]
    assert "usage 2026-09" in prod.adjustments[0].description
    assert "-200 units" in prod.adjustments[0].description
    assert {(ln.role, ln.share, ln.rule_ref) for ln in prod.lines} == {
        ("producer", D("0.4"), "hook-line@v1#standard")
    }
    assert {ln.quantity for ln in prod.lines if ln.source == "Spotify" and ln.isrc == T1} == {
        100000
    }


def test_licensor_lines_carry_the_attribution_weight_and_the_reason_to_carry(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.read() as s:
        lic_b = build_statement(s, "lic-b", OCT)
        cur = build_statement(s, "cur", OCT)
    from fractions import Fraction

    assert {ln.attribution_weight for ln in lic_b.lines} == {Fraction(1, 3)}
    assert {ln.role for ln in lic_b.lines} == {"training_data_licensor"}
    assert lic_b.summary.payable_now == Money.zero("USD")
    assert lic_b.summary.carry_reason == "below threshold of 100.00 USD"
    assert cur.summary.carry_reason == "below threshold of 300.00 USD"
    assert cur.summary.carried_forward == cur.summary.closing > Money.zero("USD")


def test_pdf_text_shows_every_figure_and_names_in_any_script(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.read() as s:
        statements = [build_statement(s, p, OCT) for p in ("prod", "cur", "lic-b")]
    for st in statements:
        _, body = pdf_text(render_pdf(st))
        missing = [phrase for phrase in expected_phrases(st) if phrase not in body]
        assert not missing, (st.party.id, missing)
    _, body = pdf_text(render_pdf(statements[1]))
    assert "山田太郎" in body and "夜明けのリズム" in body
    _, body = pdf_text(render_pdf(statements[0]))
    assert "Zoë Müller" in body


def test_same_ledger_same_bytes_and_the_csv_is_safe_and_exact(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.write() as s:
        first = write_statements(s, "2026-10", tmp_path / "a")
        second = write_statements(s, "2026-10", tmp_path / "b", party="lic-b", formats=["csv"])
    assert len(first) == 8 and [p.name for p in second] == ["statement_2026-10_lic-b.csv"]
    again = {p.name: p.read_bytes() for p in first}
    with database.write() as s:
        third = write_statements(s, "2026-10", tmp_path / "c")
    assert {p.name: p.read_bytes() for p in third} == again
    assert second[0].read_bytes() == again["statement_2026-10_lic-b.csv"]
    rows = list(csv.reader(io.StringIO(second[0].read_bytes().decode("utf-8-sig"))))
    names = [r[-1] for r in rows if r[0] == "info" and r[4] == "party_name"]
    assert names == ['\'=HYPERLINK("http://x.example") Songs']
    with database.read() as s:
        st = build_statement(s, "lic-b", OCT)
    amounts = [r[18] for r in rows if r[0] == "line"]
    assert amounts == [format(ln.amount.amount.quantize(D("1E-10")), "f") for ln in st.lines]


def test_closed_period_statements_are_issued_once_and_never_change(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.write() as s:
        periods.close(s, OCT)
    with database.write() as s:
        issued = {p.name: p.read_bytes() for p in write_statements(s, "2026-10", tmp_path / "a")}
    with database.read() as s:
        stored = {
            (r.party_id, r.format): (r.sha256, bytes(r.content))
            for r in s.scalars(select(IssuedStatement))
        }
        refs = list_statements(s, "prod")
    assert len(stored) == 8
    for (party, fmt), (sha, content) in stored.items():
        assert sha == hashlib.sha256(content).hexdigest()
        assert issued[f"statement_2026-10_{party}.{fmt}"] == content
    assert refs[0].period == OCT and refs[0].issued
    assert refs[0].sha256 == {"csv": stored[("prod", "csv")][0], "pdf": stored[("prod", "pdf")][0]}

    # Later postings: November revenue, and a new agreement version that re-splits
    # October (the adjustment lands in November, October being closed).
    with database.write() as s:
        documents.load_agreements(s, agreement(2, producer="35%"), "hook-line-v2.yaml")
    with database.write() as s:
        import_file(s, fx.write_distrokid(tmp_path / "nov.tsv", NOVEMBER), period="2026-11")
    with database.write() as s:
        run_split(s, OCT)
        run_split(s, NOV)
    with database.write() as s:
        again = {p.name: p.read_bytes() for p in write_statements(s, "2026-10", tmp_path / "b")}
        pdf = statement_file(s, "prod", OCT, "pdf", render)
        fresh = render_pdf(build_statement(s, "prod", OCT))
    assert again == issued
    assert pdf.content == issued["statement_2026-10_prod.pdf"]
    assert pdf.filename == "statement_2026-10_prod.pdf" and pdf.media_type == "application/pdf"
    # the issued bytes are October as it was issued: the November postings do not reach it
    assert fresh == pdf.content

    # November: the re-split of October shows as adjustments, with its own fees
    with database.read() as s:
        nov = build_statement(s, "prod", NOV)
        assert_every_figure_is_a_sum_of_postings(s, nov)
    assert any(m.kind == "adjustment" for m in nov.adjustments)
    assert nov.summary.opening == issued_closing_carried(database)


def issued_closing_carried(db: Database) -> Money:
    with db.read() as s:
        return build_statement(s, "prod", OCT).summary.carried_forward


def test_unknown_party_period_or_format_is_not_found(database: Database, tmp_path: Path) -> None:
    build_ledger(database, tmp_path)
    with database.read() as s:
        with pytest.raises(NotFound):
            statement_file(s, "nobody", OCT, "pdf", render)
        with pytest.raises(NotFound):
            statement_file(s, "prod", Period(2025, 1), "pdf", render)
        # the service takes a Period: a text that is no month never becomes one, so it
        # cannot reach the service (the API answers not found for it, see its tests)
        with pytest.raises(InvalidPeriod):
            Period.parse("not-a-period")
        with pytest.raises(UnknownFormat):
            statement_file(s, "prod", OCT, "xlsx", render)
        with pytest.raises(NotFound):
            build_statement(s, "label", OCT)  # the operator gets no statement
        with pytest.raises(NotFound):
            list_statements(s, "nobody")
        draft = statement_file(s, "cur", OCT, "csv", render)
        assert draft.media_type.startswith("text/csv")
        assert list_statements(s, "cur")[0].issued is False
